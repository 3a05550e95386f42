from django import template

from channels_web.answer_html import answer_html

register = template.Library()


@register.filter(name="answer_html")
def answer_html_filter(text: str):
    """`{{ message.content|answer_html }}`: a model's Markdown answer as sanitized HTML."""
    return answer_html(text)
