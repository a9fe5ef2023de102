#!/usr/bin/env python3
"""Marks one version requirement (e.g. GLIBCXX_3.4.32) of an ELF64 little-endian shared object weak.

The dynamic loader treats a missing weak version as non-fatal. patchelf 0.14 cannot do this: it means
setting VER_FLG_WEAK (0x2) in the matching Vernaux entry of .gnu.version_r.
usage: weaken_version_need.py LIBRARY VERSION_NAME
"""
import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2


def main(path, version):
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            sys.exit(f"{path}: not a 64-bit little-endian ELF file")
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
        sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
        changed = False
        for (_, sh_type, _, _, offset, _, link, info, _, _) in sections:
            if sh_type != SHT_GNU_VERNEED:
                continue
            strtab_offset = sections[link][4]
            entry = offset
            for _ in range(info):
                _, count, _, aux, next_entry = struct.unpack_from("<HHIII", data, entry)
                aux_offset = entry + aux
                for _ in range(count):
                    _, flags, _, name, next_aux = struct.unpack_from("<IHHII", data, aux_offset)
                    start = strtab_offset + name
                    end = data.index(b"\0", start)
                    if data[start:end].decode() == version and not flags & VER_FLG_WEAK:
                        struct.pack_into("<H", data, aux_offset + 4, flags | VER_FLG_WEAK)
                        changed = True
                    aux_offset += next_aux
                entry += next_entry
        if changed:
            f.seek(0)
            f.write(data)
    print(f"{path}: {version} {'marked weak' if changed else 'already weak or not required'}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
