"""google.api.http path templates: `/tenants/{tenant_id}/users/{user.id=*}` and `{name=files/**}`.

Supported: literal segments, `{field}` (one segment), `{field=*}` and `{field=**}`
(the rest of the path), with dotted field paths. A variable's value is percent-decoded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

_VARIABLE = re.compile(r"^\{([a-z_][a-z0-9_.]*)(?:=(\*\*?))?\}$")
_LITERAL = re.compile(r"^[A-Za-z0-9._~-]+$")


class TemplateError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Variable:
    field_path: str
    # True for `**`: matches one or more segments, slashes included.
    rest: bool


@dataclass(frozen=True, slots=True)
class PathTemplate:
    template: str
    segments: tuple[str | Variable, ...]
    _regex: re.Pattern[str]

    @classmethod
    def parse(cls, template: str) -> PathTemplate:
        if not template.startswith("/") or template == "/":
            raise TemplateError(f"path template must start with / and name a resource: {template!r}")
        segments: list[str | Variable] = []
        pattern = ""
        raw_segments = template[1:].split("/")
        for index, raw in enumerate(raw_segments):
            if match := _VARIABLE.match(raw):
                variable = Variable(match.group(1), match.group(2) == "**")
                if variable.rest and index != len(raw_segments) - 1:
                    raise TemplateError(f"`**` must be the last segment: {template!r}")
                segments.append(variable)
                pattern += "/(.+)" if variable.rest else "/([^/]+)"
            elif _LITERAL.match(raw):
                segments.append(raw)
                pattern += "/" + re.escape(raw)
            else:
                raise TemplateError(f"unsupported segment {raw!r} in {template!r}")
        return cls(template, tuple(segments), re.compile(f"^{pattern}$"))

    @property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(s for s in self.segments if isinstance(s, Variable))

    @property
    def specificity(self) -> tuple[int, int]:
        """Literal segments win over variables: `/tenants/by-slug/{slug}` before `/tenants/{id}/{x}`."""
        literals = sum(1 for s in self.segments if isinstance(s, str))
        return (literals, -sum(1 for v in self.variables if v.rest))

    def match(self, path: str) -> dict[str, str] | None:
        found = self._regex.match(path)
        if found is None:
            return None
        return {v.field_path: unquote(value) for v, value in zip(self.variables, found.groups(), strict=True)}

    def openapi_path(self, json_name: dict[str, str]) -> str:
        """The template as OpenAPI writes it, variables in their JSON names: `/tenants/{tenantId}`."""
        return "/" + "/".join(
            s if isinstance(s, str) else "{" + json_name.get(s.field_path, s.field_path) + "}"
            for s in self.segments
        )
