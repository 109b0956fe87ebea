"""One page per kind of source-map error seen on real sites, with exact ranges.

Each case is a page, the files it includes, and the range expected for every annotated
element, written as {(tag, first words of the element's text): "PATH#LA-LB"}: an
unexpected attribute fails a case as surely as a wrong one. The kinds, by how often they
were wrong: `///` block delimiters, fences with titles or attributes, word-less code
lines, containers, includes, unresolved reference text, footnotes, coverage holes.
"""

from __future__ import annotations

import pytest

from tests.sourcemap.helpers import annotated, convert

BLOCKS = """\
/// tip
Tip body.
///

/// details | Summary here
    type: warning

Details body.
///

/// tab | One
Tab one body.
///

/// tab | Two
Tab two body.
///

/// html | div
Inside html div.
///

Table caption follows.

/// caption
The caption text.
///

/// version-added | v2.11
A block whose extension is off shows as text.
///
"""
FENCES = """\
Intro.

```py title="x.py"
print("x")
```

``` { .py title="y.py" }
def y():
    return [
        1,
    ]
```

````md title="nested.md"
```py
inner
```
````

End.
"""
CODE_ENDS = """\
Indented code follows:

    :::python
    values = [
        1,
    ]

Included code:

```json
--8<-- "data.json"
```

End.
"""
CONTAINERS = """\
!!! tip

    Set it to false:

    ```toml title="pyproject.toml"
    [tool.uv]
    managed = false
    ```

=== "Tab"

    ```yaml
    key: value
    ```

    <div class="result" markdown>

    Result words here.

    </div>

<figure markdown>

![Picture](pic.png)

  <figcaption markdown>

The figure's caption

  </figcaption>
</figure>
"""
AROUND_BLOCKS = """\
<p align="center">
  <a href="x">logo</a>
</p>
<p align="center">
    <em>Tagline words</em>
</p>

This example defines a new `guestbook` resource:
```yaml
kind: ApplicationSet
```
We can see that the `server` and `path` fields were filled.

As of <!-- md:version 9.7 --> the plugin is kept.

<div class="termy">

```console
$ uv init
```

</div>

//// tab | One

Body one.

////

//// tab | Two

/// tip | Astuce

Tip text.

///

```py
two()
```

////
"""
REFUSED_FENCE = """\
Generate a file only if they answered "yes":

```tree result="shell"
your_template
    copier.yml
```

!!! important

    The suffix **must** appear outside of the condition.

You can even use the answers of questions with choices:

```yaml title="copier.yml"
ci:
    type: str
```
"""
INCLUDES = """\
<div class="pic" markdown>
--8<-- "pic.svg"
</div>

```py
--8<-- "a.py"
```

```py
--8<-- "b.py"
```
"""
TABBED_INCLUDES = """\
=== "one.py"

    ```py title="one.py"
    --8<-- "one.py"
    ```

=== "one.tcss"

    ```css title="one.tcss"
    --8<-- "one.tcss"
    ```

<div class="pic">
--8<-- "pic.svg"
</div>

```py
--8<-- "two.py"
```

```py
--8<-- 'three.py'
```
"""
REFERENCES = """\
See [`Model.dump`][pkg.Model.dump] for details
on dumping.

Next paragraph with [a link][ok].

[ok]: https://example.com
"""
FOOTNOTES = """\
Text with a note[^note].

[^note]:
    The note's text starts here
    and goes on.

After.
"""
EMOJI = """\
A fine cocktail *Web on The Beach*: HTML :cocktail:.

![cocktail Gatsby](pic.png "My cocktail Web on the Beach!"){: loading=lazy }
{: align=middle }
"""
HOLES = """\
Wrap it in `<div>` tags.

```py title="Don't panic.py"
x = 1
```

$$
a & b
$$

See :module: docs.

Indented code holding markup:

    <div class="x">[x]: https://example.com</div>
    [x]: https://example.com
"""

INCLUDED = {
    "data.json": '{\n  "a": [\n    "x"\n  ]\n}\n',
    "pic.svg": '<svg viewBox="0 0 1 1">\n<text>Label in svg</text>\n</svg>\n',
    "a.py": "def run():\n    print('a')\n    return [\n        1,\n    ]\n",
    "b.py": "def run():\n    print('b')\n    return [\n        1,\n    ]\n",
    # Two similar files: their shared first lines are told apart across the blank line.
    "one.py": 'from rich.text import Text\n\nfrom textual.app import App\nCSS_PATH = "one.tcss"\n'
    "class One(App):\n    pass\n",
    "one.tcss": "Screen {\n    color: red;\n}\n",
    "two.py": "from rich.text import Text\n\nfrom textual.app import App\n"
    "class Two(App):\n    pass\n",
    # All of two.py's lines are in three.py too: the directive names the file.
    "three.py": "from rich.text import Text\n\nfrom textual.app import App\n"
    "class Two(App):\n    pass\nTHREE = 3\n",
}
BLOCKS_EXTENSIONS = [
    *("pymdownx.blocks.admonition", "pymdownx.blocks.details", "pymdownx.blocks.tab"),
    *("pymdownx.blocks.html", "pymdownx.blocks.caption"),
]
FENCE_EXTENSIONS = ["pymdownx.highlight", "pymdownx.superfences"]


CASES = [
    pytest.param(
        BLOCKS,
        BLOCKS_EXTENSIONS,
        [
            ("div", "Tip Tip body.", "page.md#L1-L3"),
            ("p", "Tip", "page.md#L1-L1"),
            ("p", "Tip body.", "page.md#L2-L2"),
            ("details", "Summary here Details body.", "page.md#L5-L9"),
            ("summary", "Summary here", "page.md#L5-L5"),
            ("p", "Details body.", "page.md#L8-L8"),
            ("div", "One Tab one body. Two Tab two body.", "page.md#L11-L17"),
            ("label", "One", "page.md#L11-L11"),
            ("div", "Tab one body.", "page.md#L12-L12"),
            ("p", "Tab one body.", "page.md#L12-L12"),
            ("label", "Two", "page.md#L15-L15"),
            ("div", "Tab two body.", "page.md#L16-L16"),
            ("p", "Tab two body.", "page.md#L16-L16"),
            ("div", "Inside html div.", "page.md#L19-L21"),
            ("p", "Inside html div.", "page.md#L20-L20"),
            ("figure", "Table caption follows. The caption text.", "page.md#L23-L27"),
            ("p", "Table caption follows.", "page.md#L23-L23"),
            ("figcaption", "The caption text.", "page.md#L26-L26"),
            ("p", "The caption text.", "page.md#L26-L26"),
            ("p", "/// version-added | v2.11 A block whose ", "page.md#L29-L31"),
        ],
        id="blocks-delimiters",
    ),
    pytest.param(
        FENCES,
        FENCE_EXTENSIONS,
        [
            ("p", "Intro.", "page.md#L1-L1"),
            ("div", 'x.pyprint("x")', "page.md#L3-L5"),
            ("div", "y.pydef y(): return [ 1, ]", "page.md#L7-L12"),
            ("div", "nested.md```py inner ```", "page.md#L14-L18"),
            ("p", "End.", "page.md#L20-L20"),
        ],
        id="titled-fences",
    ),
    pytest.param(
        CODE_ENDS,
        ["codehilite", "pymdownx.snippets", "pymdownx.superfences"],
        [
            ("p", "Indented code follows:", "page.md#L1-L1"),
            ("div", "values = [ 1, ]", "page.md#L3-L6"),
            ("p", "Included code:", "page.md#L8-L8"),
            ("div", '{ "a": [ "x" ] }', "data.json#L1-L5"),
            ("p", "End.", "page.md#L14-L14"),
        ],
        id="word-less-code-lines",
    ),
    pytest.param(
        CONTAINERS,
        ["admonition", "md_in_html", "attr_list", *FENCE_EXTENSIONS, "pymdownx.tabbed"],
        [
            ("div", "Tip Set it to false: pyproject.toml[tool", "page.md#L1-L8"),
            ("p", "Tip", "page.md#L1-L1"),
            ("p", "Set it to false:", "page.md#L3-L3"),
            ("div", "pyproject.toml[tool.uv] managed = false", "page.md#L5-L8"),
            ("div", "Tab key: value Result words here.", "page.md#L10-L20"),
            ("label", "Tab", "page.md#L10-L10"),
            ("div", "key: value Result words here.", "page.md#L12-L20"),
            ("div", "key: value", "page.md#L12-L14"),
            ("p", "Result words here.", "page.md#L18-L18"),
            ("figure", "The figure's caption", "page.md#L22-L31"),
            ("p", "", "page.md#L24-L24"),
            ("figcaption", "The figure's caption", "page.md#L26-L30"),
            ("p", "The figure's caption", "page.md#L28-L28"),
        ],
        id="containers",
    ),
    pytest.param(
        # Raw <p> elements one after the other each get their own tag lines, not their
        # neighbour's; a paragraph right before a fence (no blank line between) and the
        # fence get theirs, the text right after it is in no paragraph (as in the
        # browser), and a paragraph holding a comment gets nothing; a raw <div> around a
        # fence is its tag lines; a tab's body that begins with a ``/// tip`` block and
        # goes on is left without a range (it would start on the tip's line), its tab set
        # and its children keep theirs.
        AROUND_BLOCKS,
        ["pymdownx.blocks.admonition", "pymdownx.blocks.tab", *FENCE_EXTENSIONS],
        [
            ("p", "logo", "page.md#L1-L3"),
            ("p", "Tagline words", "page.md#L4-L6"),
            ("p", "This example defines a new guestbook res", "page.md#L8-L8"),
            ("div", "kind: ApplicationSet", "page.md#L9-L11"),
            ("div", "$ uv init", "page.md#L16-L22"),
            ("div", "One Body one. Two Astuce Tip text. two()", "page.md#L24-L42"),
            ("label", "One", "page.md#L24-L24"),
            ("div", "Body one.", "page.md#L26-L26"),
            ("p", "Body one.", "page.md#L26-L26"),
            ("label", "Two", "page.md#L30-L30"),
            ("div", "Astuce Tip text.", "page.md#L32-L36"),
            ("p", "Astuce", "page.md#L32-L32"),
            ("p", "Tip text.", "page.md#L34-L34"),
            ("div", "two()", "page.md#L38-L40"),
        ],
        id="around-blocks",
    ),
    pytest.param(
        INCLUDES,
        ["md_in_html", "pymdownx.snippets", *FENCE_EXTENSIONS],
        [
            ("div", "Label in svg", "page.md#L1-L3"),
            ("p", "Label in svg", "pic.svg#L1-L3"),
            ("div", "def run(): print('a') return [ 1, ]", "a.py#L1-L5"),
            ("div", "def run(): print('b') return [ 1, ]", "b.py#L1-L5"),
        ],
        id="includes",
    ),
    pytest.param(
        # Titled fences around includes (the title's words are on the page's fence
        # line, the code in the file), a tab label after a tab whose include names it,
        # a raw <div> around an included SVG (its text is the SVG's), similar files
        # included on one page (one of them with no line of its own).
        TABBED_INCLUDES,
        ["pymdownx.snippets", "pymdownx.tabbed", *FENCE_EXTENSIONS],
        [
            ("label", "one.py", "page.md#L1-L1"),
            ("label", "one.tcss", "page.md#L7-L7"),
            ("div", "one.pyfrom rich.text import Text from te", "one.py#L1-L6"),
            ("div", "one.pyfrom rich.text import Text from te", "one.py#L1-L6"),
            ("div", "one.tcssScreen { color: red; }", "one.tcss#L1-L3"),
            ("div", "Label in svg", "pic.svg#L1-L3"),
            ("div", "from rich.text import Text from textual.", "two.py#L1-L5"),
            ("div", "from rich.text import Text from textual.", "three.py#L1-L6"),
        ],
        id="tabbed-includes",
    ),
    pytest.param(
        REFERENCES,
        [],
        [
            ("p", "See [Model.dump][pkg.Model.dump] for det", "page.md#L1-L2"),
            ("p", "Next paragraph with a link.", "page.md#L4-L4"),
        ],
        id="unresolved-references",
    ),
    pytest.param(
        # A fence whose info string superfences refuses is text, and the fences after
        # it pair otherwise than the file's structure says: the code block the renderer
        # made lies half in a fence of the file, so it gets nothing (it got the next
        # fence's lines).
        REFUSED_FENCE,
        FENCE_EXTENSIONS,
        [("p", 'Generate a file only if they answered "y', "page.md#L1-L1")],
        id="refused-fence",
    ),
    pytest.param(
        # An emoji's shortcode is matched by its title: the word stays on its line,
        # not taken by the image below whose alt shares it.
        EMOJI,
        ["attr_list", "pymdownx.emoji"],
        [
            ("p", "A fine cocktail Web on The Beach: HTML .", "page.md#L1-L1"),
            ("p", "", "page.md#L3-L4"),
        ],
        id="emoji-shortcodes",
    ),
    pytest.param(
        FOOTNOTES,
        ["footnotes"],
        [
            ("p", "Text with a note1.", "page.md#L1-L1"),
            ("p", "After.", "page.md#L7-L7"),
            ("li", "The note's text starts here and goes on.", "page.md#L3-L5"),
            ("p", "The note's text starts here and goes on.", "page.md#L4-L5"),
        ],
        id="footnote-label-line",
    ),
    pytest.param(
        HOLES,
        [*FENCE_EXTENSIONS, "pymdownx.arithmatex", "pymdownx.emoji"],
        [
            ("p", "Wrap it in <div> tags.", "page.md#L1-L1"),
            ("div", "Don't panic.pyx = 1", "page.md#L3-L5"),
            ("div", "\\[ a & b \\]", "page.md#L7-L9"),
            ("p", "See :module: docs.", "page.md#L11-L11"),
            ("p", "Indented code holding markup:", "page.md#L13-L13"),
            ("div", '<div class="x">[x]: https://example.com<', "page.md#L15-L16"),
        ],
        id="coverage-holes",
    ),
]


@pytest.mark.parametrize(("text", "extensions", "expected"), CASES)
def test_every_element_of_each_kind_gets_its_exact_range(tmp_path, text, extensions, expected):
    for name, content in INCLUDED.items():
        (tmp_path / name).write_text(content)
    configs = {
        "pymdownx.snippets": {"base_path": [str(tmp_path)]},
        "pymdownx.arithmatex": {"generic": True},
        "pymdownx.tabbed": {"alternate_style": True},
    }
    configs = {name: config for name, config in configs.items() if name in extensions}
    html, _ = convert(tmp_path, text, extensions, configs)
    root = str(tmp_path) + "/"
    found = [(tag, words, value.replace(root, "")) for tag, words, value in annotated(html)]
    assert found == expected
