"""The models the server scores with: the champion that decides and an optional challenger in shadow.

A fraud team never swaps a model blind: a challenger (CHALLENGER_MODEL_PATH) is
scored on every transaction beside the champion (MODEL_PATH), from the same
values in the same invocation of fraud/model, and its score and would-alert are
recorded in each decision, but it never alerts. Promotion and rollback are a
change of the files: every MODEL_RELOAD_SECONDS the server re-reads both, and a
changed file that validates (scoring.load_logistic_model, the sources every
lookup provides) replaces the running model between two invocations, so one
process switches at one instant. A file that does not validate is refused,
logged and counted once per content, and the running version keeps deciding:
a bad rollout never stops scoring nor crashes the server (docs/model.md, ADR 0015).

The threshold belongs to the model file; ALERT_THRESHOLD replaces the champion's
only when explicitly set (the chart's `model.thresholdOverride`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from fraud_functions.metrics import MODEL_INFO, MODEL_LOADED, MODEL_RELOADS
from fraud_functions.scoring import Model, ModelError, check_sources, load_logistic_model, load_model
from fraud_functions.settings import FunctionSettings

log = logging.getLogger(__name__)

CHAMPION, CHALLENGER = "champion", "challenger"


@dataclass
class Slot:
    """One role's running model and the file it came from (None: fixed in memory, never reloaded)."""

    role: str
    model: Model
    path: Path | None
    content: bytes = b""
    refused: bytes = b""  # the last content refused, so a bad file is reported once, not on every poll


class LiveModels:
    """The champion and the challenger, swapped as a whole when their files change."""

    def __init__(self, champion: Slot, challenger: Slot | None, threshold_override: float | None = None) -> None:
        self._slots = {slot.role: slot for slot in (champion, challenger) if slot is not None}
        self._threshold_override = threshold_override
        for slot in self._slots.values():
            _published(slot)

    @classmethod
    def fixed(cls, model: Model, threshold_override: float | None = None) -> LiveModels:
        """A champion held in memory, with no challenger (unit tests, benchmarks)."""
        return cls(Slot(CHAMPION, model, None), None, threshold_override)

    @classmethod
    def load(cls, settings: FunctionSettings) -> LiveModels:
        """The models the settings name; ModelError names a file that cannot be used (the server does not start)."""
        reloadable = settings.model_strategy == "model-file"
        champion = Slot(
            CHAMPION,
            load_model(settings.model_strategy, settings.model_path),
            settings.model_path if reloadable else None,
            _read(settings.model_path) if reloadable else b"",
        )
        challenger = None
        if settings.challenger_model_path is not None:
            path = settings.challenger_model_path
            challenger = Slot(CHALLENGER, load_logistic_model(path), path, _read(path))
        return cls(champion, challenger, settings.alert_threshold)

    @property
    def champion(self) -> Model:
        return self._slots[CHAMPION].model

    @property
    def challenger(self) -> Model | None:
        slot = self._slots.get(CHALLENGER)
        return slot.model if slot is not None else None

    def champion_threshold(self) -> float:
        """The champion file's threshold, unless ALERT_THRESHOLD explicitly replaces it."""
        override = self._threshold_override
        return override if override is not None else self.champion.threshold

    def check(self, provided: Iterable[str]) -> None:
        """At start: every model's sources are provided by a lookup; ModelError names the file otherwise."""
        available = tuple(provided)
        for slot in self._slots.values():
            try:
                check_sources(slot.model, available)
            except ModelError as err:
                raise ModelError(f"{_where(slot)}: {err}") from None

    def reload(self, provided: Iterable[str]) -> list[str]:
        """Re-read every file; swap in each changed one that validates. Returns the roles that changed."""
        available = tuple(provided)
        changed = []
        for slot in self._slots.values():
            if slot.path is not None and self._reload(slot, available):
                changed.append(slot.role)
        return changed

    def _reload(self, slot: Slot, provided: tuple[str, ...]) -> bool:
        assert slot.path is not None
        try:
            content = _read(slot.path)
        except ModelError as err:  # unreadable (removed, or a permission): keep deciding with the running one
            return self._refuse(slot, str(err).encode(), err)
        if content in (slot.content, slot.refused):
            return False
        try:
            model = load_logistic_model(slot.path)
            check_sources(model, provided)
        except ModelError as err:
            return self._refuse(slot, content, err)
        previous = slot.model.version
        slot.model, slot.content, slot.refused = model, content, b""
        _published(slot, previous)
        MODEL_RELOADS.labels(slot.role, "loaded").inc()
        log.info(
            "model file changed: now scoring with the new version",
            extra={"role": slot.role, "model_version": model.version, "previous": previous, "path": str(slot.path)},
        )
        return True

    @staticmethod
    def _refuse(slot: Slot, refused: bytes, err: ModelError) -> bool:
        """Report a file once per content (or per read error): the poll comes back every few seconds."""
        if refused == slot.refused:
            return False
        slot.refused = refused
        MODEL_RELOADS.labels(slot.role, "refused").inc()
        log.error(
            "model file refused; the running version keeps deciding",
            extra={"role": slot.role, "model_version": slot.model.version, "path": str(slot.path), "error": str(err)},
        )
        return False


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise ModelError(f"cannot read model file {path}: {err}") from None


def _where(slot: Slot) -> str:
    return f"{slot.role} model file {slot.path}" if slot.path is not None else f"{slot.role} model"


def _published(slot: Slot, previous: str | None = None) -> None:
    """fraud_model_info names the running version of each role; fraud_model_loaded_timestamp_seconds says since when."""
    if previous is not None and previous != slot.model.version:
        with suppress(KeyError):  # another instance (a test's) may have removed it
            MODEL_INFO.remove(slot.role, previous)
    MODEL_INFO.labels(slot.role, slot.model.version).set(1)
    MODEL_LOADED.labels(slot.role).set(time.time())
