"""A process's figures from /proc, for the bench scripts (Linux)."""
from pathlib import Path


def proc_status(pid):
    """/proc/PID/status as {field: text}, e.g. "VmRSS": "6144 kB"."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def cpu_ticks(pid):
    """User + system CPU time in clock ticks (SC_CLK_TCK a second)."""
    # utime and stime, fields 14 and 15, after the parenthesised command name.
    rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(rest[11]) + int(rest[12])
