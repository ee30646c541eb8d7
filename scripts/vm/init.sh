#!/bin/busybox sh
# Guest init of the soft-RoCE harness (scripts/vm/run.mjs). Two stages in one file:
#   /init (in the initramfs): load the virtio/9p/overlay modules, mount the host's root read-only
#       over 9p under an overlay with a tmpfs upper layer, switch_root into it;
#   "guest" (PID 1 after switch_root): create rxe0/rxe1 on two rails, run the job the host wrote
#       into the writable 9p share, report its exit status, power off. Alone (NODE_COUNT=1) the
#       rails are dummy netdevs; with several guests they are virtio NICs, each cabled to the same
#       rail of the other node (scripts/vm/nodes.mjs).
# Lines starting with @@spark-vm: on the console (ttyS0) are markers the host parses. The job's
# stdout and stderr go to ttyS1 and ttyS2 so that console noise never mixes into them.

MARK='@@spark-vm:'
RUN=/run/spark-vm
JOB=$RUN/job
NINEP_OPTIONS=trans=virtio,version=9p2000.L,msize=512000

say() { echo "$MARK$*"; }

# Progress on the console with the guest's uptime, shown by the host with --verbose.
step() {
  read -r step_uptime _ 2> /dev/null < /proc/uptime
  echo "spark-vm [$step_uptime] $*"
}

# Waits until the console has sent everything written so far: tcsetattr(TCSADRAIN) drains.
drain_console() { stty -F /dev/ttyS0 -echo 2>/dev/null; }

power_off() {
  sync
  drain_console
  echo o > /proc/sysrq-trigger 2> /dev/null
  # Wait for the power-off without exec'ing anything: the root filesystem goes away under us,
  # and PID 1 must not exit (that would be a kernel panic). Opening a FIFO nobody writes blocks.
  [ -p "$RUN/halt" ] && read -r _ < "$RUN/halt"
  sleep 10
  poweroff -f
}

# One line for the host; the reason travels as a marker and, when the share is there, as a file.
fail() {
  reason=$(echo "$*" | tr '\n' ' ')
  [ -d "$ERROR_DIR" ] && echo "$reason" > "$ERROR_DIR/error"
  say "error $reason"
  power_off
}

# Runs a command; on failure stops the guest with its own error output in the message.
must() {
  what=$1
  shift
  output=$("$@" 2>&1) || fail "$what failed: $output"
}

initramfs_stage() {
  export PATH=/bin
  /bin/busybox mkdir -p /proc /sys /dev /host /overlay /newroot
  /bin/busybox --install -s /bin
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mount -t devtmpfs devtmpfs /dev
  # devtmpfs has device nodes only (no udev here): add what programs expect under /dev.
  mkdir -p /dev/pts /dev/shm
  mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
  mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
  ln -sf /proc/self/fd /dev/fd
  ln -sf /proc/self/fd/0 /dev/stdin
  ln -sf /proc/self/fd/1 /dev/stdout
  ln -sf /proc/self/fd/2 /dev/stderr
  step 'loading modules'
  for module in $(cat /etc/spark-vm/modules); do
    must "insmod $module" insmod "/lib/modules/spark-vm/$module.ko"
  done
  step 'mounting the host root'
  # cache=loose: the host root is read-only for the guest's short life, and page-caching it
  # makes every exec and every require() after the first one several times faster.
  must 'mounting the host root (9p tag hostroot)' mount -t 9p -o "$NINEP_OPTIONS,ro,cache=loose" hostroot /host
  must 'mounting the tmpfs upper layer' mount -t tmpfs -o mode=0755 overlay-upper /overlay
  mkdir -p /overlay/upper /overlay/work
  must 'mounting the overlay root' \
    mount -t overlay -o lowerdir=/host,upperdir=/overlay/upper,workdir=/overlay/work overlay /newroot
  mkdir -p /newroot/run /newroot/proc /newroot/sys /newroot/dev
  must 'mounting /run' mount -t tmpfs -o mode=0755,nosuid,nodev run /newroot/run
  mkdir -p "/newroot$JOB"
  # No cache on the job share: the status written there must reach the host at once.
  must 'mounting the job share (9p tag job)' mount -t 9p -o "$NINEP_OPTIONS" job "/newroot$JOB"
  ERROR_DIR="/newroot$JOB"
  cp /init "/newroot$RUN/init.sh"
  for fs in proc sys dev; do
    must "moving /$fs" mount --move "/$fs" "/newroot/$fs"
  done
  # The host's /bin/sh from here on: busybox sh would run its own applets (ip, modprobe, stty)
  # in preference to the host's tools of the same name.
  [ -x /newroot/bin/sh ] || fail 'the host root has no /bin/sh'
  step 'switch_root'
  exec switch_root /newroot /bin/sh "$RUN/init.sh" guest
}

# Polls sysfs until every named device's port 1 is ACTIVE, or fails at the deadline.
wait_active() {
  read -r uptime _ < /proc/uptime
  deadline=$((${uptime%.*} + RAIL_DEADLINE_SECONDS))
  for device in "$@"; do
    while :; do
      state=
      read -r state < "/sys/class/infiniband/$device/ports/1/state" 2>/dev/null
      case $state in *ACTIVE*) break ;; esac
      read -r uptime _ < /proc/uptime
      [ "${uptime%.*}" -lt "$deadline" ] ||
        fail "$device port 1 is not ACTIVE after ${RAIL_DEADLINE_SECONDS}s (state: ${state:-no such device})"
      sleep 0.1
    done
  done
}

# The virtio NIC of each rail, found by the MAC the host gave it (52:54:00:77:<node>:<rail>), is
# renamed rail<rail>: without udev the kernel's eth<n> order is not a promise.
name_nic_rails() {
  for dir in /sys/class/net/*; do
    read -r mac < "$dir/address" 2> /dev/null || continue
    case $mac in
      52:54:00:77:0$NODE_INDEX:0[01]) echo "link set ${dir##*/} name rail${mac##*:0}" ;;
    esac
  done
}

# rxe0 on rail0 (10.77.0.<node+1>/24), rxe1 on rail1 (10.77.1.<node+1>/24), netdev MTU 9000 for
# active_mtu 4096: dummy netdevs alone, virtio NICs on a wire. One ip and one rdma process:
# every exec is slow under TCG.
create_rails() {
  host=$((NODE_INDEX + 1))
  echo 'link set lo up' > "$RUN/rails.ip"
  if [ "$NODE_COUNT" -gt 1 ]; then
    name_nic_rails >> "$RUN/rails.ip"
    grep -q 'name rail0' "$RUN/rails.ip" && grep -q 'name rail1' "$RUN/rails.ip" ||
      fail "node $NODE_INDEX: no virtio NICs with MACs 52:54:00:77:0$NODE_INDEX:00 and :01 (is virtio_net loaded?)"
  fi
  for index in 0 1; do
    [ "$NODE_COUNT" -gt 1 ] || echo "link add rail$index type dummy"
    printf '%s\n' \
      "link set rail$index mtu 9000 up" \
      "addr add 10.77.$index.$host/24 dev rail$index"
  done >> "$RUN/rails.ip"
  printf 'link add rxe%s type rxe netdev rail%s\n' 0 0 1 1 > "$RUN/rails.rdma"
  step 'creating rail0, rail1'
  must 'bringing up lo, creating rail0 and rail1 (ip -batch)' ip -batch "$RUN/rails.ip"
  command -v rdma > /dev/null || fail 'no rdma command in the guest; install the Debian package iproute2 on the host'
  step 'creating rxe0, rxe1'
  must 'rdma link add rxe0/rxe1 type rxe netdev rail0/rail1' rdma -b "$RUN/rails.rdma"
  step 'waiting for ACTIVE'
  wait_active rxe0 rxe1
  export SPARK_RDMA_VM=1
  export SPARK_RDMA_TEST_RAILS=rxe0,rxe1
  export SPARK_RDMA_TEST_NETDEVS=rail0,rail1
  export SPARK_RDMA_TEST_RAIL_IPS=10.77.0.$host,10.77.1.$host
  export SPARK_RDMA_VM_NODE=$NODE_INDEX
  export SPARK_RDMA_VM_NODES=$NODE_COUNT
  # A job that powers its guest off on purpose (a peer losing power) writes its status here first.
  export SPARK_RDMA_VM_STATUS_FILE=$JOB/status
}

# The hostname and /etc/hosts the host chose (job.mjs guestIdentity); shell builtins only.
set_identity() {
  [ -n "$GUEST_HOSTNAME" ] && [ -r "$JOB/hosts" ] || fail 'the job share has no hostname or hosts file'
  echo "$GUEST_HOSTNAME" > /proc/sys/kernel/hostname || fail "cannot set the hostname $GUEST_HOSTNAME"
  # Replace, never write through: /etc/hosts may be a symlink into the read-only host root.
  rm -f /etc/hosts
  while IFS= read -r line; do echo "$line"; done < "$JOB/hosts" > /etc/hosts || fail 'cannot write /etc/hosts'
}

# After the job exits, whatever it left running would keep the output pipes open: stop it.
stop_leftovers() {
  keep=" 1 $* "
  for signal in TERM KILL; do
    found=
    for dir in /proc/[0-9]*; do
      pid=${dir#/proc/}
      case $keep in *" $pid "*) continue ;; esac
      [ -e "$dir/exe" ] || continue # kernel threads and zombies hold no pipes
      kill "-$signal" "$pid" 2> /dev/null && found=1
    done
    [ -n "$found" ] || return 0
    [ "$signal" = TERM ] && sleep 0.5
  done
}

# Job stdout -> pipe -> ttyS1, stderr -> pipe -> ttyS2: the job sees pipes, as under CI.
run_job() {
  (exec > /dev/ttyS1 9>&- && stty -F /dev/ttyS1 raw -echo && exec cat "$RUN/stdout") &
  stdout_forwarder=$!
  (exec > /dev/ttyS2 9>&- && stty -F /dev/ttyS2 raw -echo && exec cat "$RUN/stderr") &
  stderr_forwarder=$!
  /bin/sh "$JOB/job.sh" < /dev/null > "$RUN/stdout" 2> "$RUN/stderr" 9>&-
  job_status=$?
  stop_leftovers "$stdout_forwarder" "$stderr_forwarder"
  wait "$stdout_forwarder" "$stderr_forwarder"
  return $job_status
}

guest_stage() {
  export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  ERROR_DIR=$JOB
  say booted
  mkfifo "$RUN/stdout" "$RUN/stderr" "$RUN/halt"
  [ -r "$JOB/settings" ] && [ -r "$JOB/job.sh" ] || fail "the job share has no settings or job.sh"
  . "$JOB/settings"
  ulimit -l unlimited || fail 'ulimit -l unlimited failed'
  set_identity
  step 'loading modules'
  read -r release < /proc/sys/kernel/osrelease
  # On a wire: the NICs, and what tests use to drop, delay and filter packets (tc netem, nft).
  wire_modules=
  [ "$NODE_COUNT" -gt 1 ] && wire_modules='virtio_net sch_netem nf_tables'
  must "modprobe (kernel $release)" modprobe -a rdma_rxe ib_uverbs rdma_ucm dummy softdog $wire_modules
  # Backstop if the host dies without killing QEMU: the watchdog (softdog.soft_margin on the
  # kernel command line) resets the guest, and QEMU, started with -no-reboot, exits. PID 1 keeps
  # fd 9 open and never writes to it; nothing else inherits it.
  exec 9> /dev/watchdog || fail 'cannot open /dev/watchdog'
  create_rails
  say ready
  run_job
  status=$?
  echo "$status" > "$JOB/status"
  say "exit $status"
  power_off
}

case "$1" in
  guest) guest_stage ;;
  *) initramfs_stage ;;
esac
