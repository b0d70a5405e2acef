#!/bin/sh
# Runs a command next to a private pcscd whose only readers are vsmartcard-vpcd slots:
#
#   test/pcsc/with-pcscd.sh [--readers N] [--log FILE] <command...>
#
# Everything happens in fresh Linux namespaces (unshare --net --mount --pid): loopback only, so vpcd's
# listening ports are reachable from the command and from nowhere else; a private /run so pcscd's socket
# (pcsc-lite 1.9 has its socket path built in) never meets a system pcscd; a PID namespace so pcscd dies with
# the command. USB reader drivers are hidden from this pcscd, so a lab machine's real readers stay untouched.
#
# N readers (default 2: four slots, enough for the built-in fleet), two slots each: "Virtual PCD 00 00" and
# "Virtual PCD 00 01" on ports 35963 and 35964, then "Virtual PCD 2 00 00" / "Virtual PCD 2 00 01" on
# 35965 / 35966, and so on. The command sees:
#   TSMLAB_PCSCD_NS=1                 (tests run only when this is set)
#   TSMLAB_VPCD_PORTS=35963,35964,... (one per slot, in reader order)
#   TSMLAB_VPCD_READERS="Virtual PCD 00 00,Virtual PCD 00 01,..." (pcscd's name of each slot, same order)
#   PCSCLITE_CSOCK_NAME=/run/pcscd/pcscd.comm
# TSMLAB_PCSCD_DEBUG=1 makes pcscd log at debug level (with --log FILE).
# Needs root or user namespaces, pcscd and vsmartcard-vpcd (apt-get install pcscd vsmartcard-vpcd).
set -eu

if [ "${TSMLAB_PCSCD_INNER:-}" = 1 ]; then
  # Inside the namespaces.
  ip link set lo up
  mount -t tmpfs -o mode=0755 tsmlab-run /run
  mkdir -p /run/pcscd
  if [ -n "$TSMLAB_PCSCD_USBDROP" ]; then
    mount -t tmpfs -o mode=0755 tsmlab-no-usb-drivers "$TSMLAB_PCSCD_USBDROP"
  fi
  log=${TSMLAB_PCSCD_LOG:-/dev/null}
  debug=
  [ "${TSMLAB_PCSCD_DEBUG:-}" = 1 ] && debug=--debug
  pcscd --foreground $debug --config "$TSMLAB_PCSCD_CONF" >"$log" 2>&1 &
  i=0
  until [ -S /run/pcscd/pcscd.comm ]; do
    i=$((i + 1))
    if [ "$i" -gt 100 ]; then
      echo "with-pcscd: pcscd did not create its socket within 10 s (log: $log)" >&2
      exit 2
    fi
    sleep 0.1
  done
  # vpcd listens once pcscd has loaded the driver for every reader: wait for the last port.
  last=${TSMLAB_VPCD_PORTS##*,}
  i=0
  until ss -Hltn "sport = :$last" 2>/dev/null | grep -q LISTEN; do
    i=$((i + 1))
    if [ "$i" -gt 100 ]; then
      echo "with-pcscd: vpcd is not listening on port $last after 10 s (log: $log)" >&2
      exit 2
    fi
    sleep 0.1
  done
  export PCSCLITE_CSOCK_NAME=/run/pcscd/pcscd.comm TSMLAB_PCSCD_NS=1
  unset TSMLAB_PCSCD_INNER TSMLAB_PCSCD_CONF TSMLAB_PCSCD_USBDROP TSMLAB_PCSCD_LOG
  set +e
  "$@"
  status=$?
  exit "$status"
fi

readers=2
log=
while [ $# -gt 0 ]; do
  case "$1" in
    --readers) readers=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --) shift; break ;;
    -*) echo "with-pcscd: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ $# -eq 0 ]; then
  echo "usage: test/pcsc/with-pcscd.sh [--readers N] [--log FILE] <command...>" >&2
  exit 2
fi
case "$readers" in
  [1-4]) ;;
  *) echo "with-pcscd: --readers must be 1..4" >&2; exit 2 ;;
esac

for tool in pcscd unshare ip ss; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "with-pcscd: '$tool' not found (apt-get install pcscd vsmartcard-vpcd iproute2 util-linux)" >&2
    exit 2
  }
done

# The vpcd driver: where the vsmartcard-vpcd package's reader.conf says, or the usual place.
lib=${VPCD_LIB:-}
if [ -z "$lib" ] && [ -r /etc/reader.conf.d/vpcd ]; then
  lib=$(awk '$1 == "LIBPATH" { print $2; exit }' /etc/reader.conf.d/vpcd)
fi
[ -n "$lib" ] || lib=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
if [ ! -r "$lib" ]; then
  echo "with-pcscd: vpcd driver not found at $lib (apt-get install vsmartcard-vpcd, or set VPCD_LIB)" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tsmlab-pcscd.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/reader.conf.d"
# The USB drop directory is hidden inside the namespace, so the driver is used from private copies: one per
# reader, because vpcd keeps its slots in a static table indexed by slot number only — two readers sharing one
# loaded copy would overwrite each other's slots. A copy under another name is loaded (and numbered) apart.
ports=
names=
i=0
while [ "$i" -lt "$readers" ]; do
  base=$((35963 + 2 * i))
  cp "$lib" "$work/libifdvpcd-$i.so"
  {
    # pcscd does not number equal friendly names apart: give every reader its own.
    if [ "$i" -eq 0 ]; then echo 'FRIENDLYNAME "Virtual PCD"'; else echo "FRIENDLYNAME \"Virtual PCD $((i + 1))\""; fi
    echo "DEVICENAME /dev/null:$(printf '0x%X' "$base")"
    echo "LIBPATH $work/libifdvpcd-$i.so"
    echo "CHANNELID $(printf '0x%X' "$base")"
  } >"$work/reader.conf.d/vpcd-$i"
  ports="${ports:+$ports,}$base,$((base + 1))"
  if [ "$i" -eq 0 ]; then friendly="Virtual PCD"; else friendly="Virtual PCD $((i + 1))"; fi
  names="${names:+$names,}$friendly 00 00,$friendly 00 01"
  i=$((i + 1))
done

usbdrop=
[ -d /usr/lib/pcsc/drivers ] && usbdrop=/usr/lib/pcsc/drivers

# Without root, a user namespace gives the mounts and the network namespace their privileges.
userns=
[ "$(id -u)" -eq 0 ] || userns=--map-root-user

set +e
TSMLAB_PCSCD_INNER=1 TSMLAB_PCSCD_CONF="$work/reader.conf.d" TSMLAB_PCSCD_USBDROP="$usbdrop" \
  TSMLAB_PCSCD_LOG="$log" TSMLAB_VPCD_PORTS="$ports" TSMLAB_VPCD_READERS="$names" \
  unshare $userns --net --mount --pid --fork --kill-child --propagation private sh "$0" "$@"
status=$?
exit "$status"
