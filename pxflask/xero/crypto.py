"""Fernet encryption of tokens and secrets at rest."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from pxflask.xero.errors import XeroConfigError

KEY_FILE = "encryption.key"
KEY_HELP = (
    "PXFLASK_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64 bytes, e.g. "
    "from `python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())'`; several keys separated by commas)"
)


class TokenCipher:
    """Encrypts text and JSON with Fernet; several keys allow rotation."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise XeroConfigError("no encryption key given")
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except (ValueError, TypeError) as exc:
            raise XeroConfigError(KEY_HELP) from exc

    def encrypt(self, text: str) -> str:
        """Encrypt text; returns an ASCII token."""
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Decrypt what encrypt() produced."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise XeroConfigError(
                "stored Xero token cannot be decrypted: PXFLASK_ENCRYPTION_KEY "
                "changed; reconnect Xero or restore the old key"
            ) from exc

    def encrypt_json(self, value: Any) -> str:
        """Encrypt a JSON-serialisable value."""
        return self.encrypt(json.dumps(value, separators=(",", ":"), sort_keys=True))

    def decrypt_json(self, token: str) -> Any:
        """Decrypt a value stored by encrypt_json()."""
        return json.loads(self.decrypt(token))


def load_cipher(
    settings: dict[str, Any], instance_path: str | Path | None = None
) -> TokenCipher:
    """Build the cipher from PXFLASK_ENCRYPTION_KEY, or the demo/test key file."""
    configured = settings.get("PXFLASK_ENCRYPTION_KEY")
    if configured:
        parts = [part.strip() for part in str(configured).split(",")]
        keys = [part for part in parts if part]
        if not keys or not all(key.isascii() for key in keys):
            raise XeroConfigError(KEY_HELP)  # never echo the key itself
        return TokenCipher([key.encode("ascii") for key in keys])
    if not (settings.get("PXFLASK_DEMO") or settings.get("TESTING")):
        raise XeroConfigError(
            "PXFLASK_ENCRYPTION_KEY is required to store Xero tokens outside "
            "demo/test mode"
        )
    if instance_path is None:
        raise XeroConfigError(
            "no PXFLASK_ENCRYPTION_KEY and no instance folder to keep a demo key in"
        )
    return TokenCipher([_instance_key(Path(instance_path))])


def _instance_key(folder: Path) -> bytes:
    """Read, or create once with mode 0600, the demo key in the instance folder."""
    path = folder / KEY_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        key = Fernet.generate_key()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process won the race; read its key below
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(key)
    for _ in range(50):  # a racing creator may not have written it yet
        key = path.read_bytes().strip()
        if key:
            return key
        time.sleep(0.02)
    raise XeroConfigError(f"{path} is empty; delete it to generate a new demo key")
