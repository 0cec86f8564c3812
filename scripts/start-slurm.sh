#!/usr/bin/env bash
# Starts a one-node Slurm (munged, slurmctld, slurmd) on this machine, for the Slurm CLI test and
# for trying 'joulebench slurm' without a cluster.  Idempotent: when it is already up it only
# says so.  For a fresh Debian 12 machine as root without systemd (as in CI): apt packages
# slurm-wlm and munge (scripts/deps/apt.txt).  State, spool and logs live in $JB_SLURM_DIR
# (default /tmp/joulebench-slurm); the configuration is $JB_SLURM_DIR/slurm.conf, so clients
# need SLURM_CONF set to it (this script prints the line).  /etc/slurm is not touched.
set -euo pipefail
D=${JB_SLURM_DIR:-/tmp/joulebench-slurm}
CONF=$D/slurm.conf
export SLURM_CONF=$CONF

die() { echo "start-slurm: error: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (slurmd runs jobs as their users)"
for b in munged munge unmunge slurmctld slurmd sinfo scontrol; do
  command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] || die "'$b' not found (apt-get install slurm-wlm munge)"
done
PATH=$PATH:/usr/sbin

node_state() { sinfo -h -N -o '%t' 2>/dev/null | head -1; }

# Already up with this configuration?
if [ -f "$CONF" ] && scontrol ping 2>/dev/null | grep -q 'is UP'; then
  case "$(node_state)" in
    idle*|mix*|alloc*|comp*)
      echo "start-slurm: already running (export SLURM_CONF=$CONF)"
      exit 0 ;;
  esac
fi

# ---- munge ----------------------------------------------------------------------------------
id munge >/dev/null 2>&1 || die "no 'munge' user (is the munge package installed?)"
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  (umask 077; dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none)
fi
chown munge:munge /etc/munge /etc/munge/munge.key /var/lib/munge /var/log/munge /run/munge
chmod 0700 /etc/munge /var/lib/munge /var/log/munge
chmod 0755 /run/munge
chmod 0400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- munged
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge >/dev/null || die "munged did not start (see /var/log/munge/munged.log)"
fi

# ---- slurm.conf -----------------------------------------------------------------------------
mkdir -p "$D/state" "$D/spool"
host=$(hostname -s)
# slurmd -C prints this node's line (CPUs, sockets, cores, threads, RealMemory) as Slurm sees it.
nodeline=$(slurmd -C | head -1)
case "$nodeline" in NodeName=*) ;; *) die "'slurmd -C' gave '$nodeline'" ;; esac
cat > "$CONF.tmp" <<CONFEOF
# One-node Slurm for joulebench's tests (written by scripts/start-slurm.sh).
ClusterName=joulebench
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/slurmctld.log
SlurmdLogFile=$D/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
MinJobAge=30
$nodeline NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONFEOF
mv "$CONF.tmp" "$CONF"

# ---- daemons --------------------------------------------------------------------------------
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if ! alive "$D/slurmctld.pid"; then
  slurmctld -f "$CONF" || die "slurmctld did not start (see $D/slurmctld.log)"
fi
for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q 'is UP' && break; sleep 0.2; done
scontrol ping | grep -q 'is UP' || die "slurmctld is not answering (see $D/slurmctld.log)"
if ! alive "$D/slurmd.pid"; then
  slurmd -f "$CONF" || die "slurmd did not start (see $D/slurmd.log)"
fi
for _ in $(seq 150); do
  case "$(node_state)" in
    idle*|mix*|alloc*) break ;;
    down*|drain*|fail*) scontrol update nodename="$host" state=resume 2>/dev/null || true ;;
  esac
  sleep 0.2
done
case "$(node_state)" in
  idle*|mix*|alloc*) ;;
  *) die "node $host is '$(node_state)' (see $D/slurmd.log and $D/slurmctld.log)" ;;
esac
echo "start-slurm: running (export SLURM_CONF=$CONF)"
