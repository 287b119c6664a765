#!/bin/sh
# A compile database for a distribution kernel configuration without compiling it.
#
#   bench/distro_compdb.sh SRC_TARBALL CONFIG.xz WORKDIR DIR...
#
# Unpacks the kernel into WORKDIR, configures it with a distribution's config (Debian ships
# its own in linux-config-6.12: /usr/src/linux-config-6.12/config.amd64_none_amd64.xz), runs
# the real `make modules_prepare`, then lets Kbuild "build" DIR... with bench/kbuild-cmdline-cc
# as the compiler: every C file gets the exact command line Kbuild would use (flags, -D, -I,
# the config's autoconf.h) and an empty object, so scripts/clang-tools/gen_compile_commands.py
# can write compile_commands.json in minutes instead of the hours a full module build takes on
# two cores.  Objects are empty: nothing is linked or loadable.  Needs gcc, make, flex, bison,
# bc, libelf-dev, libssl-dev (the kernel's own build dependencies).
set -eu
[ $# -ge 4 ] || { sed -n '2,13p' "$0"; exit 2; }
tarball=$1 config=$2 work=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
tar xf "$tarball" -C "$work"
tree=$(find "$work" -maxdepth 1 -mindepth 1 -type d -name 'linux-*' | head -n1)
cd "$tree"
xzcat "$config" > .config
# BTF needs pahole, module signing needs the distribution's keys; symbol versions only slow this down
scripts/config -d MODVERSIONS -d DEBUG_INFO_BTF -e DEBUG_INFO_NONE -d DEBUG_INFO_DWARF5 \
    -d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT --set-str SYSTEM_TRUSTED_KEYS "" \
    --set-str SYSTEM_REVOCATION_KEYS "" -d MODULE_SIG_ALL
make olddefconfig >/dev/null
make -j"$(nproc)" modules_prepare >/dev/null
targets=""
for d in "$@"; do targets="$targets ${d%/}/"; done
# -k: linking empty objects fails, and does not matter here
make -k -j"$(nproc)" CC="$here/kbuild-cmdline-cc" objtool=/bin/true $targets >/dev/null 2>&1 || true
python3 scripts/clang-tools/gen_compile_commands.py
echo "$tree/compile_commands.json: $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' compile_commands.json) entries"
