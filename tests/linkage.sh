#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# linkage.sh LIBPROCVISOR PRELOAD HEADER: the shared libraries export exactly
# their contract: libprocvisor the functions of the public header, the
# preload library the libc functions it interposes.
set -u
lib=$1 preload=$2 header=$3
fail=0
exported() { nm -D --defined-only "$1" | awk '$2 ~ /^[TW]$/ {print $3}' | sort; }

want=$(sed -n 's/^[a-z].* \**\(pv_[a-z_]*\)(.*/\1/p' "$header" | sort)
got=$(exported "$lib")
if [ "$want" != "$got" ]; then
    echo "libprocvisor exports differ from $header:"
    diff <(echo "$want") <(echo "$got")
    fail=$((fail + 1))
fi

hooks="__open64_2 __open_2 __openat64_2 __openat_2 __pread64_chk __pread_chk
__read_chk __readlink_chk __readlinkat_chk access close close_range closedir
closefrom connect dup2 dup3 fcntl fcntl64 fopen fopen64 ioctl lstat lstat64
mmap mmap64 mremap munmap open open64 openat openat64 opendir pread pread64
preadv preadv64 pwrite pwrite64 pwritev pwritev64 read readdir readdir64
readlink readlinkat stat stat64 write"
want=$(echo $hooks | tr ' ' '\n' | sort)
got=$(exported "$preload")
if [ "$want" != "$got" ]; then
    echo "the preload library exports more or less than its hooks:"
    diff <(echo "$want") <(echo "$got")
    fail=$((fail + 1))
fi
echo "2 checks, $fail failed"
[ $fail = 0 ]
