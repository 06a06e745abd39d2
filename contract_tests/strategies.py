"""Hypothesis strategies for valid create requests, built from the schemas (cached).

Every drawn body validates against ``create-task-request.json`` and passes the semantic rules
(:mod:`mock_server.contract_rules`): shots last at most 15 s in all, ``@image_N`` names an
existing image. Prompts are unicode (no lone surrogates: they cannot cross HTTP as UTF-8) and
bodies carry the unknown keys real clients send. Three shapes: ``single`` (3.0 with a
prompt), ``multi`` (3.0 with ``multi_shots``) and ``o1``.
"""

from __future__ import annotations

import string
from functools import cache
from typing import Any, Final

from hypothesis import strategies as st

from contract_tests.facts import facts

Body = dict[str, Any]
SHAPES: Final = ("single", "multi", "o1")
DEFAULT_WEBHOOKS: Final = ("https://example.test/hooks/piapi",)
#: Keys real clients add to ``input`` (PiAPI's Go decoder ignores unknown keys).
_CLIENT_INPUT_KEYS: Final[dict[str, st.SearchStrategy[Any]]] = {
    "language": st.sampled_from(["en", "zh", "ja"]),
    "prefer_multi_shots": st.booleans(),
    "keep_original_audio": st.booleans(),
    "negative_prompt": st.text(max_size=20),
    "x_client_tag": st.integers(),
}
_URL_CHARS: Final = string.ascii_letters + string.digits + "-._~%/?=&"
_PROMPT_CHARS: Final = st.characters(codec="utf-8", exclude_characters="@")


@cache
def urls(long: bool = True) -> st.SearchStrategy[str]:
    """``http(s)`` URLs, some of them very long (up to ~2 KB)."""
    path = st.text(alphabet=_URL_CHARS, max_size=40)
    if long:
        path = st.one_of(path, path.map(lambda p: (p or "x") * (2000 // (len(p) or 1))))
    return st.builds(
        "{}://{}/{}".format,
        st.sampled_from(["https", "http"]),
        st.sampled_from(["example.test", "cdn.example.test:8443", "img.theapi.app"]),
        path,
    )


def _texts(max_size: int, min_size: int = 0) -> st.SearchStrategy[str]:
    """Unicode text without ``@`` (so no stray image reference), sometimes at its size limit."""
    short = st.text(alphabet=_PROMPT_CHARS, min_size=max(min_size, 0), max_size=min(40, max_size))
    full = st.text(alphabet=_PROMPT_CHARS, min_size=1, max_size=8).map(
        lambda s: (s * max_size)[:max_size]
    )
    return st.one_of(short, full) if max_size > 40 else short


@st.composite
def _prompt(draw: st.DrawFn, images: int, max_size: int, min_size: int = 0) -> str:
    """A prompt that references some of ``images`` (1-based ``@image_N``)."""
    refs = draw(st.lists(st.integers(1, images), max_size=3)) if images else []
    tags = "".join(f" @image_{i}" for i in refs)
    text = draw(_texts(max_size, min_size))
    text = text[: max_size - len(tags)] + tags
    return text if len(text) >= min_size else text + "x" * (min_size - len(text))


@st.composite
def _shots(draw: st.DrawFn, images: int) -> list[Body]:
    """1-6 shots whose durations (3 s when omitted) add up to at most 15 s."""
    f = facts()
    count = draw(st.integers(1, f.shots_max))
    shots: list[Body] = []
    budget = f.total_seconds_max
    for index in range(count):
        left = budget - (count - index - 1) * f.shot_duration_min
        shot: Body = {"prompt": draw(_prompt(images, f.shot_prompt_max, min_size=1))}
        omit = left >= 3 and draw(st.booleans())
        seconds = 3 if omit else draw(st.integers(f.shot_duration_min, min(left, 14)))
        if not omit:
            shot["duration"] = seconds
        budget -= seconds
        shots.append(shot)
    return shots


def _maybe(draw: st.DrawFn, target: Body, key: str, values: st.SearchStrategy[Any]) -> None:
    if draw(st.booleans()):
        target[key] = draw(values)


@st.composite
def task_inputs(draw: st.DrawFn, shape: str | None = None) -> Body:
    """A valid ``input`` of the given shape (any shape if None)."""
    f = facts()
    shape = shape or draw(st.sampled_from(SHAPES))
    body: Body = {"version": "o1" if shape == "o1" else "3.0"}
    images = draw(st.lists(urls(), max_size=f.images_max))
    show_images: bool = bool(images) or draw(st.booleans())
    if show_images:
        body["images"] = images
    _maybe(draw, body, "resolution", st.sampled_from(f.resolutions))
    _maybe(draw, body, "aspect_ratio", st.sampled_from(f.aspect_ratios))
    if shape == "o1":
        body["prompt"] = draw(_prompt(len(images), f.prompt_max))
        _maybe(draw, body, "duration", st.sampled_from(f.o1_durations))
        _maybe(draw, body, "enable_audio", st.just(False))
    else:
        _maybe(draw, body, "enable_audio", st.booleans())
        _maybe(draw, body, "duration", st.integers(f.duration_min, f.duration_max))
        if shape == "multi":
            body["multi_shots"] = draw(_shots(len(images)))
            _maybe(draw, body, "prompt", _prompt(len(images), f.prompt_max))
        else:
            body["prompt"] = draw(_prompt(len(images), f.prompt_max))
    for key in draw(st.lists(st.sampled_from(sorted(_CLIENT_INPUT_KEYS)), unique=True)):
        body[key] = draw(_CLIENT_INPUT_KEYS[key])
    return body


#: Header-safe secrets: the fake refuses others at create (a guess it labels, issue #11).
_SECRET = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


@st.composite
def configs(draw: st.DrawFn, webhooks: tuple[str, ...] = DEFAULT_WEBHOOKS) -> Body:
    """A valid ``config``: service mode, webhook endpoint (or ``""``) and secret (maybe empty)."""
    config: Body = {}
    _maybe(draw, config, "service_mode", st.sampled_from(facts().service_modes))
    if draw(st.booleans()):
        hook: Body = {}
        _maybe(draw, hook, "endpoint", st.sampled_from(("", *webhooks)))
        _maybe(draw, hook, "secret", st.one_of(st.just(""), st.text(_SECRET, max_size=30)))
        config["webhook_config"] = hook
    return config


@cache
def valid_requests(
    shape: str | None = None, webhooks: tuple[str, ...] = DEFAULT_WEBHOOKS
) -> st.SearchStrategy[Body]:
    """Contract-valid ``POST /api/v1/task`` bodies (of one ``shape``, or any)."""

    @st.composite
    def build(draw: st.DrawFn) -> Body:
        f = facts()
        body: Body = {"model": f.model, "task_type": f.task_type, "input": draw(task_inputs(shape))}
        if draw(st.booleans()):
            body["config"] = draw(configs(webhooks))
        if draw(st.integers(0, 9)) == 9:  # shrinks away
            body["x_request_source"] = "contract-kit"
        return body

    return build()


@cache
def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value (junk bodies: bad input must never get a 5xx)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.sampled_from(["model", "task_type", "input", "x"]), inner),
        ),
        max_leaves=12,
    )
