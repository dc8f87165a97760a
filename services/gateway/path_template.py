"""google.api.http path templates: `/tenants/{tenant_id}/users/{user.id=*}` and `{name=files/**}`.

Supported: literal segments, `{field}` (one segment), `{field=*}` and `{field=**}`
(the rest of the path), with dotted field paths, and a custom method's `:verb` at the end
(`/tenants/{tenant_id}/jobs/{job_id}:cancel`, AIP-136).

A path is matched as it was sent (ASGI's `raw_path`), split at its slashes, each segment
percent-decoded exactly once: `%2F` inside a segment is a slash in a value, never a
separator, and `%2561` is `%61`, never `a`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

_VARIABLE = re.compile(r"\{([a-z_][a-z0-9_.]*)(?:=(\*\*?))?\}")
_LITERAL = re.compile(r"[A-Za-z0-9._~-]+")
_VERB = re.compile(r":([A-Za-z][A-Za-z0-9]*)$")


class TemplateError(ValueError):
    pass


class MalformedPathError(ValueError):
    """A path that is no percent-encoded UTF-8; a 400 for the caller."""


def path_segments(raw_path: bytes) -> tuple[str, ...]:
    """The segments of a path as sent, each percent-decoded once: b"/a/b%2Fc" is ("a", "b/c")."""
    if not raw_path.startswith(b"/"):
        raise MalformedPathError("the path must start with /")
    try:
        return tuple(unquote_to_bytes(raw).decode() for raw in raw_path[1:].split(b"/"))
    except UnicodeDecodeError:
        raise MalformedPathError("the path is not percent-encoded UTF-8") from None


@dataclass(frozen=True, slots=True)
class Variable:
    field_path: str
    # True for `**`: matches one or more segments, slashes included.
    rest: bool


@dataclass(frozen=True, slots=True)
class PathTemplate:
    template: str
    segments: tuple[str | Variable, ...]
    # A custom method's verb, written after the last segment as `:verb`.
    verb: str = ""

    @classmethod
    def parse(cls, template: str) -> PathTemplate:
        if not template.startswith("/") or template == "/":
            raise TemplateError(f"path template must start with / and name a resource: {template!r}")
        segments: list[str | Variable] = []
        verb_match = _VERB.search(template)
        verb = verb_match.group(1) if verb_match else ""
        raw_segments = template[1 : verb_match.start() if verb_match else None].split("/")
        for index, raw in enumerate(raw_segments):
            if match := _VARIABLE.fullmatch(raw):
                variable = Variable(match.group(1), match.group(2) == "**")
                if variable.rest and index != len(raw_segments) - 1:
                    raise TemplateError(f"`**` must be the last segment: {template!r}")
                segments.append(variable)
            elif _LITERAL.fullmatch(raw):
                segments.append(raw)
            else:
                raise TemplateError(f"unsupported segment {raw!r} in {template!r}")
        if verb and isinstance(segments[-1], Variable) and segments[-1].rest:
            raise TemplateError(f"a `:verb` cannot follow `**`: {template!r}")
        return cls(template, tuple(segments), verb)

    @property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(s for s in self.segments if isinstance(s, Variable))

    @property
    def specificity(self) -> tuple[int, int]:
        """Literal segments win over variables: `/tenants/by-slug/{slug}` before `/tenants/{id}/{x}`."""
        literals = sum(1 for s in self.segments if isinstance(s, str)) + (1 if self.verb else 0)
        return (literals, -sum(1 for v in self.variables if v.rest))

    @property
    def first_literal(self) -> str | None:
        """The first segment when it is a literal a request's first segment must equal (a lone
        segment with a `:verb` arrives with the verb attached, so it does not count)."""
        first = self.segments[0] if self.segments else None
        if isinstance(first, str) and (len(self.segments) > 1 or not self.verb):
            return first
        return None

    def may_match(self, count: int, first: str | None) -> bool:
        """False when no path of `count` segments whose first is `first` can fit (None: a first
        segment that is no template's first literal); True means `match` must decide."""
        if any(isinstance(s, Variable) and s.rest for s in self.segments):
            return True
        literal = self.first_literal
        return len(self.segments) == count and (literal is None or literal == first)

    def match(self, segments: Sequence[str]) -> dict[str, str] | None:
        """The variables' values if `segments` (from `path_segments`) fit the template, else None."""
        if self.verb:
            suffix = f":{self.verb}"
            if not segments or not segments[-1].endswith(suffix):
                return None
            segments = [*segments[:-1], segments[-1].removesuffix(suffix)]
        elif segments and _VERB.search(segments[-1]):
            # A last segment ending in `:verb` names a custom method (AIP-136), never a resource.
            return None
        variables: dict[str, str] = {}
        for index, expected in enumerate(self.segments):
            if isinstance(expected, str):
                if index >= len(segments) or segments[index] != expected:
                    return None
            elif expected.rest:
                value = "/".join(segments[index:])
                if not value:
                    return None
                variables[expected.field_path] = value
                return variables
            elif index >= len(segments) or not segments[index]:
                return None
            else:
                variables[expected.field_path] = segments[index]
        return variables if len(segments) == len(self.segments) else None

    def openapi_path(self, json_name: dict[str, str]) -> str:
        """The template as OpenAPI writes it, variables in their JSON names: `/tenants/{tenantId}`."""
        path = "/" + "/".join(
            s if isinstance(s, str) else "{" + json_name.get(s.field_path, s.field_path) + "}"
            for s in self.segments
        )
        return f"{path}:{self.verb}" if self.verb else path
