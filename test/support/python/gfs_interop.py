#!/usr/bin/python3
"""The reference GFSClient's upload, append and download flows (test/support/python/gfs_flows.py,
framed by protocol/python/gfs_msgpack.py), for checking the gfs command against them.

    gfs_interop.py MASTER_PORT download GFS_PATH OUT_FILE
        download_file: writes what the reference client reads of GFS_PATH to OUT_FILE.
    gfs_interop.py MASTER_PORT upload GFS_PATH IN_FILE APPEND_FILE
        upload_file in 300 000-byte chunks, then append_to_file of APPEND_FILE's bytes.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gfs_client import GFSClient  # noqa: E402


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    client = GFSClient(f'127.0.0.1:{int(argv[1])}', 'client_gfs_interop', (0.0, 0.0))
    mode, gfs_path = argv[2], argv[3]
    if mode == 'download' and len(argv) == 5:
        with open(argv[4], 'wb') as f:
            f.write(client.download_file(gfs_path))
        return 0
    if mode == 'upload' and len(argv) == 6:
        with open(argv[4], 'rb') as f:
            client.upload_file_from_bytes(f.read(), gfs_path)
        with open(argv[5], 'rb') as f:
            client.append_to_file(gfs_path, f.read())
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
