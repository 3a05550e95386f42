"""Read a rendered admin form back into POST data, so tests submit what an operator's browser would."""

from html.parser import HTMLParser

_SKIPPED_INPUTS = {"submit", "button", "file", "image", "reset"}


class _FormParser(HTMLParser):
    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.in_form = False
        self.data: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._select: str | None = None
        self._option_value: str | None = None

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.in_form = attributes.get("id") == self.form_id
            return
        if not self.in_form:
            return
        name = attributes.get("name")
        if tag == "input" and name and "__prefix__" not in name:
            kind = (attributes.get("type") or "text").lower()
            if kind in _SKIPPED_INPUTS or (kind in ("checkbox", "radio") and "checked" not in attributes):
                return
            self._add(name, attributes.get("value") or ("on" if kind == "checkbox" else ""))
        elif tag == "textarea" and name and "__prefix__" not in name:
            self._textarea = name
            self._add(name, "")
        elif tag == "select" and name and "__prefix__" not in name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attributes:
            self._add(self._select, attributes.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            text = self.data[self._textarea][-1] + data
            # Browsers drop the one newline right after <textarea>.
            self.data[self._textarea][-1] = (
                text[1:] if text.startswith("\n") and not self.data[self._textarea][-1] else text
            )


def admin_form_data(html: str, form_id: str) -> dict[str, str | list[str]]:
    """The fields of form `form_id` as a browser would submit them (checkboxes only when ticked)."""
    parser = _FormParser(form_id)
    parser.feed(html)
    return {name: values[0] if len(values) == 1 else values for name, values in parser.data.items()}
