"""KDD Cup 1999 network-intrusion data, in the layout of the DAGMM protocol.

The DAGMM paper (Zong et al., ICLR 2018), whose protocol the MemAE paper follows, one-hot
encodes ``protocol_type``, ``service`` and ``flag`` and treats the ``normal.`` traffic
(about 20% of the 10% subset) as the anomaly class. Both inputs return the same column
layout: the one-hot blocks first (protocol_type, service, flag; categories sorted), then
the 38 numeric features in their original order, which is the layout of ``kdd_cup.npz``.
No scaling happens here; fit a scaler on the training split.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from pathlib import Path

import numpy as np

__all__ = ["KDD_FEATURES", "load_kddcup99"]

KDD_FEATURES: tuple[str, ...] = (
    "duration", "protocol_type", "service", "flag", "src_bytes", "dst_bytes", "land",
    "wrong_fragment", "urgent", "hot", "num_failed_logins", "logged_in", "num_compromised",
    "root_shell", "su_attempted", "num_root", "num_file_creations", "num_shells",
    "num_access_files", "num_outbound_cmds", "is_host_login", "is_guest_login", "count",
    "srv_count", "serror_rate", "srv_serror_rate", "rerror_rate", "srv_rerror_rate",
    "same_srv_rate", "diff_srv_rate", "srv_diff_host_rate", "dst_host_count",
    "dst_host_srv_count", "dst_host_same_srv_rate", "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate", "dst_host_srv_diff_host_rate", "dst_host_serror_rate",
    "dst_host_srv_serror_rate", "dst_host_rerror_rate", "dst_host_srv_rerror_rate",
)  # fmt: skip
"""The 41 feature names of the raw CSV, in column order (the 42nd column is the label)."""

_CATEGORICAL = (1, 2, 3)
_NUMERIC = tuple(i for i in range(len(KDD_FEATURES)) if i not in _CATEGORICAL)
_N_COLUMNS = len(KDD_FEATURES) + 1
_ANOMALY_LABEL = "normal."

# Categories of the 10% subset, i.e. the one-hot columns of kdd_cup.npz, in its order.
_NPZ_CATEGORIES: dict[str, tuple[str, ...]] = {
    "protocol_type": ("icmp", "tcp", "udp"),
    "service": (
        "IRC", "X11", "Z39_50", "auth", "bgp", "courier", "csnet_ns", "ctf", "daytime",
        "discard", "domain", "domain_u", "echo", "eco_i", "ecr_i", "efs", "exec", "finger",
        "ftp", "ftp_data", "gopher", "hostnames", "http", "http_443", "imap4", "iso_tsap",
        "klogin", "kshell", "ldap", "link", "login", "mtp", "name", "netbios_dgm",
        "netbios_ns", "netbios_ssn", "netstat", "nnsp", "nntp", "ntp_u", "other", "pm_dump",
        "pop_2", "pop_3", "printer", "private", "red_i", "remote_job", "rje", "shell", "smtp",
        "sql_net", "ssh", "sunrpc", "supdup", "systat", "telnet", "tftp_u", "tim_i", "time",
        "urh_i", "urp_i", "uucp", "uucp_path", "vmnet", "whois",
    ),
    "flag": ("OTH", "REJ", "RSTO", "RSTOS0", "RSTR", "S0", "S1", "S2", "S3", "SF", "SH"),
}  # fmt: skip


def _feature_names(categories: dict[str, tuple[str, ...]]) -> list[str]:
    onehot = [f"{column}={value}" for column, values in categories.items() for value in values]
    return onehot + [KDD_FEATURES[i] for i in _NUMERIC]


def _read_text(path: Path, raw: bytes) -> str:
    if raw.startswith(b"\x1f\x8b"):
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise ValueError(
                f"path={str(path)!r} is a truncated or corrupt gzip file ({exc}); download "
                "kddcup.data_10_percent.gz again"
            ) from exc
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"path={str(path)!r} is not a KDD Cup 99 CSV (non-ASCII byte at {exc.start}); "
            "pass kddcup.data_10_percent(.gz) or kdd_cup.npz"
        ) from exc


def _check_columns(path: Path, text: str) -> int:
    lines = text.splitlines()
    # Counting commas checks every row at C speed; find the culprit only on failure.
    if text.count(",") != (_N_COLUMNS - 1) * len(lines):
        for number, line in enumerate(lines, start=1):
            if line.count(",") != _N_COLUMNS - 1:
                raise ValueError(
                    f"path={str(path)!r} line {number} has {line.count(',') + 1} columns; a "
                    f"KDD Cup 99 CSV has {_N_COLUMNS} (41 features and the label), no header"
                )
    if not lines:
        raise ValueError(f"path={str(path)!r} is empty; pass kddcup.data_10_percent.gz")
    return len(lines)


def _load_csv(path: Path, raw: bytes) -> tuple[np.ndarray, np.ndarray, list[str]]:
    text = _read_text(path, raw)
    n_rows = _check_columns(path, text)
    try:
        numeric = np.loadtxt(io.StringIO(text), delimiter=",", usecols=_NUMERIC, dtype=np.float32)
    except ValueError as exc:
        raise ValueError(
            f"path={str(path)!r} has a non-numeric value in a numeric column ({exc}); the "
            "file is not a KDD Cup 99 CSV"
        ) from exc
    strings = np.loadtxt(io.StringIO(text), delimiter=",", usecols=(*_CATEGORICAL, 41), dtype=str)
    numeric, strings = numeric.reshape(n_rows, -1), strings.reshape(n_rows, -1)
    categories: dict[str, tuple[str, ...]] = {}
    blocks = []
    for j, column in enumerate(_CATEGORICAL):
        values, codes = np.unique(strings[:, j], return_inverse=True)
        categories[KDD_FEATURES[column]] = tuple(values.tolist())
        block = np.zeros((n_rows, len(values)), dtype=np.float32)
        block[np.arange(n_rows), codes] = 1.0
        blocks.append(block)
    X = np.hstack([*blocks, numeric])
    y = (strings[:, -1] == _ANOMALY_LABEL).astype(np.int8)
    return X, y, _feature_names(categories)


def _load_npz(path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    names = _feature_names(_NPZ_CATEGORIES)
    with np.load(path, allow_pickle=False) as archive:
        if "kdd" not in archive.files:
            raise ValueError(
                f"path={str(path)!r} has keys {archive.files}; the DAGMM kdd_cup.npz stores "
                "one array under 'kdd'"
            )
        data = archive["kdd"]
    if data.ndim != 2 or data.shape[1] != len(names) + 1:
        raise ValueError(
            f"path={str(path)!r} holds 'kdd' with shape {data.shape}; expected (n, "
            f"{len(names) + 1}): {len(names)} encoded features and the label column"
        )
    label = data[:, -1]
    if not np.isin(label, (0.0, 1.0)).all():
        raise ValueError(
            f"path={str(path)!r}: the last column must be 0/1 (1 = normal. traffic), found "
            f"values {np.unique(label)[:5].tolist()}"
        )
    return data[:, :-1].astype(np.float32), label.astype(np.int8), names


def load_kddcup99(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Load KDD Cup 1999 from the raw CSV or the DAGMM ``kdd_cup.npz``.

    Parameters
    ----------
    path : str or PathLike
        Either the raw CSV (gzip or plain; 42 columns, no header, last column a label such
        as ``normal.``) or ``kdd_cup.npz`` (key ``kdd``, float (n, 119), last column 1 for
        ``normal.`` traffic). The format is detected from the content, not the name.

    Returns
    -------
    X : numpy.ndarray
        float32, shape (n, d): one-hot protocol_type, service and flag (sorted
        categories) followed by the 38 numeric features, unscaled for the CSV (the npz
        is min-max scaled by its authors). d = 118 for the 10% subset.
    y : numpy.ndarray
        int8, shape (n,); 1 = anomaly, which under the DAGMM protocol is the ``normal.``
        traffic.
    feature_names : list of str
        Names of the columns of ``X``, e.g. ``"service=http"`` or ``"src_bytes"``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file has the wrong number of columns, non-numeric values, or is corrupt.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"path={str(path)!r} is not a file; pass kddcup.data_10_percent.gz or kdd_cup.npz"
        )
    raw = path.read_bytes()
    if raw.startswith(b"PK\x03\x04"):
        return _load_npz(path)
    return _load_csv(path, raw)
