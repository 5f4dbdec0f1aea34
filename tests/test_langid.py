"""The language model loaded from its decompressed cache classifies exactly as py3langid's own."""

from __future__ import annotations

from pathlib import Path

import py3langid.langid as py3
import pytest

from takeaways import langid

SAMPLES = {
    "en": "The council voted on Tuesday to close the old bridge to cars after engineers found cracks in two piers.",
    "de": "Der Stadtrat hat am Dienstag beschlossen, die alte Brücke für Autos zu sperren, weil Risse gefunden wurden.",
    "fr": "Le conseil municipal a voté mardi la fermeture du vieux pont aux voitures après la découverte de fissures.",
    "es": "El ayuntamiento votó el martes cerrar el viejo puente a los coches después de encontrar grietas en los pilares.",
    "ru": "Городской совет во вторник проголосовал за закрытие старого моста для машин после обнаружения трещин.",
    "ja": "市議会は火曜日、橋脚にひびが見つかったため、古い橋を車両通行止めにすることを決めた。",
}


@pytest.fixture(scope="module")
def original() -> py3.LanguageIdentifier:
    return py3._load_identifier()  # py3langid's own load (LZMA), the reference


def test_cached_model_classifies_like_py3langid(tmp_path: Path, original: py3.LanguageIdentifier) -> None:
    path = tmp_path / "model.npz"
    cached = langid._from_cache(path)
    assert path.stat().st_size > 10_000_000  # written decompressed, once
    assert not list(tmp_path.glob(".py3langid-*"))  # no temporary file left behind
    for lang, text in SAMPLES.items():
        assert cached.classify(text) == original.classify(text)
        assert cached.classify(text)[0] == lang
    again = langid._from_cache(path)  # read back from the file this time
    assert again.classify(SAMPLES["de"]) == original.classify(SAMPLES["de"])


def test_damaged_cache_is_written_again(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    path.write_bytes(b"PK\x03\x04 not a whole npz")  # e.g. a disk that filled up mid-write
    assert langid._from_cache(path).classify(SAMPLES["fr"])[0] == "fr"
    assert path.stat().st_size > 10_000_000


def test_unusable_cache_falls_back_to_py3langid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    monkeypatch.setenv("TAKEAWAYS_LANGID_CACHE", str(blocker / "sub"))
    monkeypatch.setattr(py3, "IDENTIFIER", None)
    assert langid.classify(SAMPLES["es"]) == "es"  # py3langid loaded its own model instead
    assert py3.IDENTIFIER is not None
    assert not (blocker / "sub").exists()
