import pytest

from prompts.errors import PromptError
from prompts.rendering import placeholders, render, validate_template


def test_input_and_named_variables_are_substituted():
    text = render("Translate to {language}: {input}", input="Hello", variables={"language": "French"})
    assert text == "Translate to French: Hello"


def test_the_same_placeholder_may_appear_twice():
    assert render("{input} / {input}", input="x", variables={}) == "x / x"


def test_double_braces_are_literal_braces():
    assert render('Reply as JSON {{"answer": "..."}} to: {input}', input="q") == 'Reply as JSON {"answer": "..."} to: q'


def test_unknown_extra_variables_are_ignored():
    assert render("{input}", input="hi", variables={"unused": "x", "input": "ignored"}) == "hi"


def test_missing_variable_names_the_variable():
    with pytest.raises(PromptError) as caught:
        render("Write in {tone} tone: {input}", input="hi", variables={})
    assert caught.value.code == "missing_variable"
    assert caught.value.http_status == 400
    assert caught.value.extra == {"variable": "tone"}
    assert "tone" in caught.value.detail


def test_values_are_inserted_verbatim_and_never_re_parsed():
    hostile = "{input.__class__} {{ }} {0}"
    assert render("{input}", input=hostile) == hostile
    assert render("{input} {x}", input="a", variables={"x": "{input}"}) == "a {input}"


def test_non_string_variables_are_converted_with_str():
    assert render("{input} x{count}", input="n", variables={"count": 3}) == "n x3"


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{input.__class__}", "attribute and index access"),
        ("{input.__class__.__mro__[1].__subclasses__}", "attribute and index access"),
        ("{x[0]} {input}", "attribute and index access"),
        ("{x.y} {input}", "attribute and index access"),
        ("{input!r}", "conversions"),
        ("{input!s}", "conversions"),
        ("{input:>10}", "format specs"),
        ("{input:{x}}", "format specs"),
        ("{} {input}", "positional"),
        ("{0} {input}", "positional"),
        ("{input", "literal braces"),
        ("input}", "literal braces"),
        ("{input!}", "literal braces"),
        ("{ input }", "attribute and index access"),
        ("Hello there", "{input}"),
    ],
)
def test_hostile_or_broken_templates_are_rejected_with_the_reason(template, reason):
    with pytest.raises(PromptError) as caught:
        validate_template(template)
    assert caught.value.code == "invalid_template"
    assert reason in caught.value.detail
    assert caught.value.extra["fields"]["template"]


@pytest.mark.parametrize("template", ["{input.__class__}", "{x[0]}", "{input!r}", "{input:>10}"])
def test_render_refuses_hostile_templates_too(template):
    with pytest.raises(PromptError) as caught:
        render(template, input="x", variables={"x": ["secret"]})
    assert caught.value.code == "invalid_template"


def test_valid_template_passes_and_lists_its_placeholders():
    validate_template("Context: {context}\n\nQuestion: {input}\n{{literal}}")
    assert placeholders("Context: {context}\n\nQuestion: {input} {context}") == ["context", "input"]
