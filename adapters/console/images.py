"""Images in the console: a chart is saved as a PNG file and the reply prints its path."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bot.messages import Image, Message

UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class ImageStore:
    """Saves images under `directory` (a new temporary directory on first use)."""

    directory: Path | None = None
    saved: int = field(default=0)

    def save(self, image: Image) -> Path:
        if self.directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="liaison-images-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.saved += 1
        name = UNSAFE.sub("-", image.name).strip(".-") or "image.png"
        path = self.directory / f"{self.saved:03d}-{name}"
        path.write_bytes(image.png)
        return path

    def save_all(self, message: Message) -> dict[int, str]:
        """Each image block's index in the message -> the path it was saved to."""
        return {
            index: str(self.save(block))
            for index, block in enumerate(message.blocks)
            if isinstance(block, Image)
        }
