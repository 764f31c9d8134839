"""tests/lint/jinja_escapes.py: backslash escapes in the Jinja literals of YAML templates."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
_SPEC = importlib.util.spec_from_file_location(
    "jinja_escapes", REPO / "tests" / "lint" / "jinja_escapes.py"
)
jinja_escapes = importlib.util.module_from_spec(_SPEC)
sys.modules["jinja_escapes"] = jinja_escapes
_SPEC.loader.exec_module(jinja_escapes)

TASKS = r"""
- name: Join with a newline
  ansible.builtin.copy:
    content: >-
      {{ parts | join('\n') ~ '\n' }}
    dest: /tmp/x
- name: A regex with a doubled backslash in a folded block
  ansible.builtin.debug:
    msg: >-
      {{ text | regex_replace('\\bNode', 'node') }}
- name: Fine - one backslash before a regex character, YAML escapes, a literal block
  ansible.builtin.debug:
    msg: "{{ text | regex_replace('\\s+', ' ') }} {{ x | split('\x0a') }}"
  vars:
    lines: |
      {% for p in parts %}
      {{ p }}
      {% endfor %}
- name: Fine - a conditional is compiled with its escapes
  ansible.builtin.debug:
    msg: ok
  when: text.split('\n') | length > 1
- name: Fine - a tagged value, no template
  ansible.builtin.debug:
    msg: !unsafe 'a\nb'
"""


def test_the_escapes_of_templated_values_are_listed_with_their_path(tmp_path: Path) -> None:
    file = tmp_path / "tasks.yml"
    file.write_text(TASKS, encoding="utf-8")
    assert jinja_escapes.problems(file) == [
        f"{file}: [0].ansible.builtin.copy.content: '\\n'",
        f"{file}: [0].ansible.builtin.copy.content: '\\n'",
        f"{file}: [1].ansible.builtin.debug.msg: '\\\\bNode'",
    ]


@pytest.mark.parametrize(
    ("template", "found"),
    [
        ('{{ a ~ "\\t" }}', ['"\\t"']),
        ("{% set s = 'it\\'s' %}", ["'it\\'s'"]),
        ("{{ a | regex_search('(\\d+)', '\\1') }}", []),
        ("no template '\\n' here", []),
        ("{{ unclosed ('\\n' }}", []),
    ],
)
def test_literals(template: str, found: list[str]) -> None:
    assert jinja_escapes.escaped_literals(template) == found


def test_main_exits_non_zero_on_a_problem_and_zero_on_the_collection(tmp_path: Path, capsys):
    (tmp_path / "bad.yml").write_text(TASKS, encoding="utf-8")
    assert jinja_escapes.main([str(tmp_path)]) == 1
    assert "3 Jinja string literal(s)" in capsys.readouterr().err
    assert jinja_escapes.main([str(REPO / d) for d in ("roles", "playbooks", "molecule")]) == 0
    assert jinja_escapes.main([]) == 2
