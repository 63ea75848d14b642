#!/usr/bin/env bash
# A real single-node SLURM for tests and for trying the harness on one machine.
#
#   slurm/cluster.sh up [--accounting] [--cpus N]   install (Debian packages) and start it
#   slurm/cluster.sh status                          daemons, their PIDs and `sinfo`
#   slurm/cluster.sh down                            stop every daemon this script started
#
# Daemons run without systemd, started by hand; their PIDs live in $LORS_SLURM_DIR (default
# /var/tmp/lors-slurm) and `down` stops exactly those. The config goes to /etc/slurm, where
# sbatch/squeue/sacct look without any environment; an /etc/slurm/slurm.conf that this script
# did not write is never touched. `--accounting` adds MariaDB + slurmdbd so `sacct` works
# (submitit reads job states from sacct only).
set -euo pipefail

STATE=${LORS_SLURM_DIR:-/var/tmp/lors-slurm}
CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
MARK="# written by lors slurm/cluster.sh"
CLUSTER=lors
T0=${EPOCHREALTIME/./}

die() { echo "cluster.sh: $*" >&2; exit 1; }
elapsed() { local us=$(( ${EPOCHREALTIME/./} - T0 )); printf '%d.%01ds' $((us / 1000000)) $((us / 100000 % 10)); }
say() { echo "[$(elapsed)] $*"; }
alive() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

need_root() { [ "$(id -u)" = 0 ] || die "needs root (it installs packages and writes /etc/slurm); run it with sudo"; }

install_packages() {
    local pkgs=(slurmctld slurmd slurm-client munge)
    [ "$ACCOUNTING" = 1 ] && pkgs+=(slurmdbd mariadb-server)
    local missing=()
    for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} = 0 ] && return 0
    command -v apt-get >/dev/null || die "packages ${missing[*]} are missing and there is no apt-get: install them by hand"
    say "installing ${missing[*]} (apt-get)"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >"$STATE/apt.log" 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get update >>"$STATE/apt.log" 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >>"$STATE/apt.log" 2>&1 \
            || die "apt-get install ${missing[*]} failed (no network to Debian's mirror?); see $STATE/apt.log"
    fi
}

write_conf() {
    if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
        die "$CONF exists and was not written by this script; refusing to overwrite a real cluster's config"
    fi
    mkdir -p "$CONF_DIR" "$STATE/ctld" "$STATE/spool" "$STATE/log"
    local acct="AccountingStorageType=accounting_storage/none"
    if [ "$ACCOUNTING" = 1 ]; then
        acct="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/none"
    fi
    cat >"$CONF.tmp" <<CONF
$MARK
ClusterName=$CLUSTER
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=cred_expire=10
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,bf_interval=1,sched_interval=2
MinJobAge=300
ReturnToService=2
MpiDefault=none
$acct
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
# a partition with a time limit, for the test of a run that asks for more
PartitionName=short Nodes=localhost MaxTime=00:10:00 State=UP
CONF
    if cmp -s "$CONF.tmp" "$CONF"; then rm -f "$CONF.tmp"; else mv "$CONF.tmp" "$CONF"; CONF_CHANGED=1; fi
}

start_munge() {
    if alive munged; then return 0; fi
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    chown munge:munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
    [ -f /etc/munge/munge.key ] || { mungekey --create 2>/dev/null || create-munge-key; chown munge:munge /etc/munge/munge.key; }
    rm -f /run/munge/munged.pid
    runuser -u munge -- /usr/sbin/munged --force
    for _ in $(seq 50); do [ -f /run/munge/munged.pid ] && break; sleep 0.1; done
    cp /run/munge/munged.pid "$STATE/munged.pid"
}

start_db() {
    if alive mariadb; then return 0; fi
    local data=$STATE/mysql
    if [ ! -d "$data/mysql" ]; then
        mkdir -p "$data"; chown mysql:mysql "$data"
        mariadb-install-db --user=mysql --datadir="$data" --auth-root-authentication-method=socket >"$STATE/log/mariadb-install.log" 2>&1 \
            || die "mariadb-install-db failed; see $STATE/log/mariadb-install.log"
    fi
    local run=$STATE/mysqlrun  # mariadbd runs as mysql: its socket, pid and log live here
    mkdir -p "$run"; chown mysql:mysql "$run"
    mariadbd --user=mysql --datadir="$data" --socket="$run/mysql.sock" \
        --bind-address=127.0.0.1 --port=3306 --pid-file="$run/mariadb.pid" \
        --log-error="$run/mariadb.log" >/dev/null 2>&1 &
    for _ in $(seq 150); do mariadb --socket="$run/mysql.sock" -e 'select 1' >/dev/null 2>&1 && break; sleep 0.1; done
    cp "$run/mariadb.pid" "$STATE/mariadb.pid" 2>/dev/null || die "mariadbd did not start; see $run/mariadb.log"
    mariadb --socket="$run/mysql.sock" -e "
        CREATE DATABASE IF NOT EXISTS slurm_acct_db;
        CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm';
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';" || die "could not create the accounting database"
}

start_slurmdbd() {
    if alive slurmdbd; then return 0; fi
    cat >"$CONF_DIR/slurmdbd.conf" <<CONF
$MARK
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
PidFile=$STATE/slurmdbd.pid
LogFile=$STATE/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=slurm
StoragePort=3306
CONF
    chmod 600 "$CONF_DIR/slurmdbd.conf"
    slurmdbd
    local ok=0
    for _ in $(seq 150); do sacctmgr -n list cluster >/dev/null 2>&1 && { ok=1; break; }; sleep 0.1; done
    [ $ok = 1 ] || die "slurmdbd did not answer within 15 s; see $STATE/log/slurmdbd.log"
    sacctmgr -n list cluster format=cluster | grep -qw "$CLUSTER" || sacctmgr -i add cluster "$CLUSTER" >/dev/null
}

stop_daemon() {  # name: TERM the daemon this script started and wait until it is gone
    alive "$1" || return 0
    local pid; pid=$(cat "$STATE/$1.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$STATE/$1.pid"
}

start_slurm() {
    if [ "$CONF_CHANGED" = 1 ] && { alive slurmctld || alive slurmd; }; then
        # node and accounting settings are read at start only (`scontrol reconfigure` is not enough)
        say "config changed: restarting slurmctld and slurmd"
        stop_daemon slurmd; stop_daemon slurmctld
    fi
    if ! alive slurmctld; then slurmctld; fi
    if ! alive slurmd; then slurmd -N localhost; fi
    for _ in $(seq 200); do
        sinfo -h -o '%T' 2>/dev/null | grep -qE '^idle' && return 0
        sleep 0.1
    done
    die "the node did not come up idle within 20 s; see $STATE/log/"
}

cmd_up() {
    need_root
    mkdir -p "$STATE/log"
    install_packages
    write_conf
    start_munge
    say "munge up"
    if [ "$ACCOUNTING" = 1 ]; then start_db; start_slurmdbd; say "mariadb + slurmdbd up"; fi
    start_slurm
    say "slurm up: $(sinfo -h -o '%P %D %T %c CPUs' | head -1)"
}

cmd_down() {
    need_root
    scancel --quiet --user=root 2>/dev/null || true
    # TERM to every daemon at once (each takes 1-3 s to exit), then wait, then KILL stragglers.
    local pids=()
    for d in slurmd slurmctld slurmdbd mariadb munged; do
        local f=$STATE/$d.pid
        [ -f "$f" ] || continue
        local pid; pid=$(cat "$f")
        kill -0 "$pid" 2>/dev/null && { kill "$pid" 2>/dev/null || true; pids+=("$pid"); }
        rm -f "$f"
    done
    for _ in $(seq 150); do
        local left=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left=1; done
        [ $left = 0 ] && break
        sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    say "down: no daemon of this script is running"
}

cmd_status() {
    local rc=0
    for d in munged mariadb slurmdbd slurmctld slurmd; do
        if alive "$d"; then echo "$d: running (pid $(cat "$STATE/$d.pid"))"; else echo "$d: stopped"; fi
    done
    alive slurmctld && sinfo || rc=3
    return $rc
}

ACCOUNTING=0
CONF_CHANGED=0
# The node offers the machine's own cores (at least 2, what a smoke cell asks for): advertising
# more lets jobs that ask for 2 threads each share a core, and OpenMP threads that wait on each
# other across processes then ran the smoke detector 6-9x slower (1.2 s per iteration, not 0.13).
CPUS=${LORS_SLURM_CPUS:-$(( $(nproc) > 2 ? $(nproc) : 2 ))}
action=${1:-}
shift || true
while [ $# -gt 0 ]; do
    case $1 in
        --accounting) ACCOUNTING=1 ;;
        --cpus) CPUS=$2; shift ;;
        *) die "unknown option '$1' (valid: --accounting, --cpus N)" ;;
    esac
    shift
done
case $action in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    *) die "usage: slurm/cluster.sh up [--accounting] [--cpus N] | status | down" ;;
esac
