"""What a chunk server charges against its space limit, as src/storage/space/charges.ts defines it
(PROTOCOL.md "Limits"): sizes rounded up to the 4 KiB file system block plus one block per
file. The flows compute the space they expect with it, never with plain byte counts."""

FS_BLOCK_BYTES = 4096
FILE_OVERHEAD_BYTES = FS_BLOCK_BYTES


def blocks(size):
    return -(-max(0, size) // FS_BLOCK_BYTES) * FS_BLOCK_BYTES


def charge(size):
    """One file of `size` bytes (a chunk)."""
    return blocks(size) + FILE_OVERHEAD_BYTES


def append_record_charge(size):
    """A prepared append: its record file and its sidecar."""
    return charge(size) + charge(1)


def largest_fitting(available):
    """The largest chunk check_space says yes to when `available` bytes are free."""
    return max(0, (available - FILE_OVERHEAD_BYTES) // FS_BLOCK_BYTES * FS_BLOCK_BYTES)
