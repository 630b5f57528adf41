"""The production image and `make run` carry what composing a call recording
needs: ffmpeg, and the font of the clock it burns in (the path
sessions_app.recording_media looks for is the one fonts-dejavu-core installs)."""

import re
from pathlib import Path

from sessions_app import recording_media

ROOT = Path(__file__).resolve().parents[2]
MEDIA_PACKAGES = {"ffmpeg", "fonts-dejavu-core"}


def _apt_installs(text: str) -> set[str]:
    packages = set()
    for line in re.findall(r"apt-get install ([^\n&|;)]+)", text.replace("\\\n", " ")):
        packages |= {word for word in line.split() if not word.startswith("-") and word != ">/dev/null"}
    return packages


def test_the_dockerfile_installs_ffmpeg_and_the_clock_font():
    assert MEDIA_PACKAGES <= _apt_installs((ROOT / "Dockerfile").read_text())


def test_make_run_and_make_test_install_the_same_packages():
    makefile = (ROOT / "Makefile").read_text()
    media = re.search(r"^media:\n((?:\t.*\n)+)", makefile, re.M)
    assert media and MEDIA_PACKAGES <= _apt_installs(media.group(1))
    assert re.search(r"^run: .*\bmedia\b", makefile, re.M)
    assert re.search(r"^browser: .*\bmedia\b", makefile, re.M)


def test_the_clock_font_is_the_one_fonts_dejavu_core_installs():
    assert recording_media.CLOCK_FONT == "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
