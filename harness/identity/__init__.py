"""Run identity: run id = short hash of (resolved config, data manifest, code version).

- **Config** (:mod:`.config`): the cell's resolved mmengine config, canonicalised, minus the
  settings that cannot change the result.
- **Data** (:mod:`.data`): a fingerprint of the files the run's datasets read.
- **Code** (:mod:`.code`): a hash of the syntax of the source that determines a result, blind to
  docstrings, comments and formatting.

:mod:`.cells` puts them together for the cells of a sweep; the plan, the job and the analysis
all take a run id from there. No torch here.
"""

from harness.identity.cells import (
    PARTS_OF_ID,
    Identity,
    ResolvedCell,
    identify,
    profile_config,
    resolve_cells,
)
from harness.identity.code import (
    CODE_HASH_ENV,
    CODE_PATHS,
    REPO,
    CodeVersion,
    changed_files,
    code_version,
    load_code_files,
    save_code_files,
    syntax_hash,
)
from harness.identity.config import EXCLUDED_KEYS, RUN_ID_CHARS, ConfigHasher, run_id
from harness.identity.data import DataManifest, data_manifest, manifest_of

__all__ = [
    "CODE_HASH_ENV",
    "CODE_PATHS",
    "EXCLUDED_KEYS",
    "PARTS_OF_ID",
    "REPO",
    "RUN_ID_CHARS",
    "CodeVersion",
    "ConfigHasher",
    "DataManifest",
    "Identity",
    "ResolvedCell",
    "changed_files",
    "code_version",
    "data_manifest",
    "identify",
    "load_code_files",
    "manifest_of",
    "profile_config",
    "resolve_cells",
    "run_id",
    "save_code_files",
    "syntax_hash",
]
