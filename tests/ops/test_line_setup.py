"""`python -m bot line-setup`: the rich menu on LINE (a fake on loopback), the webhook URL."""

from __future__ import annotations

import logging
import struct
import zlib
from collections.abc import Iterator

import pytest

from bot import line_setup
from bot.cli import main
from bot.config import load_config
from bot.line_setup import BUTTONS, HEIGHT, MENU_NAME, WIDTH, LineSetupError, menu_request
from tests.conftest import _KEYS
from tests.ops.fake_line_admin import FakeLineAdmin

TOKEN = "setup-access-token"


@pytest.fixture
def line() -> Iterator[FakeLineAdmin]:
    fake = FakeLineAdmin(TOKEN).start()
    yield fake
    fake.stop()


def run(line: FakeLineAdmin, **kw) -> line_setup.SetupResult:
    return line_setup.setup(TOKEN, line.api_url, line.data_url, **kw)


def decode_png(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, raw RGB rows with filter bytes), checking every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, header = 8, b"", b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        body = data[position + 8:position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length:position + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert (depth, colour) == (8, 2)  # 8-bit RGB
    return width, height, zlib.decompress(idat)


def pixel(raw: bytes, x: int, y: int) -> tuple[int, ...]:
    start = y * (1 + WIDTH * 3) + 1 + x * 3
    return tuple(raw[start:start + 3])


def test_the_menu_has_four_buttons_across_the_full_width(line):
    result = run(line)
    menu = line.state.menus[result.rich_menu_id]
    assert menu.body["size"] == {"width": 2500, "height": 843}
    assert menu.body["name"] == MENU_NAME and menu.body["selected"] is True
    areas = menu.body["areas"]
    assert [a["action"]["label"] for a in areas] == ["相談したい", "よくある質問", "予約",
                                                    "人と話したい"]
    assert [a["action"]["type"] for a in areas] == ["postback", "postback", "message", "postback"]
    edges = [(a["bounds"]["x"], a["bounds"]["x"] + a["bounds"]["width"]) for a in areas]
    assert edges[0][0] == 0 and edges[-1][1] == WIDTH
    assert all(left[1] == right[0] for left, right in zip(edges, edges[1:], strict=False))


def test_the_image_goes_to_the_data_api_as_a_2500x843_png(line):
    result = run(line)
    menu = line.state.menus[result.rich_menu_id]
    assert menu.image_host == "data" and menu.image_type == "image/png"
    assert ("api", "POST", f"/v2/bot/richmenu/{result.rich_menu_id}/content") not in \
        line.state.requests
    width, height, raw = decode_png(menu.image)
    assert (width, height) == (WIDTH, HEIGHT) and len(raw) == HEIGHT * (1 + WIDTH * 3)
    assert len(menu.image) < 1024 * 1024
    for i, button in enumerate(BUTTONS):  # each panel in its own colour, a pictogram inside
        x0 = i * WIDTH // len(BUTTONS)
        assert pixel(raw, x0 + 40, 40) == button.colour
        assert pixel(raw, x0 + 40, HEIGHT - 40) == button.colour
        panel = {pixel(raw, x, y) for x in range(x0 + 150, x0 + 475, 25)
                 for y in range(250, 600, 25)}
        assert (255, 255, 255) in panel


def test_the_new_menu_becomes_the_default(line):
    result = run(line)
    assert line.state.default == result.rich_menu_id


def test_running_it_again_replaces_the_menu_instead_of_adding_one(line):
    first = run(line)
    second = run(line)
    assert second.removed == [first.rich_menu_id]
    assert list(line.state.menus) == [second.rich_menu_id]
    assert line.state.default == second.rich_menu_id


def test_a_refused_image_leaves_no_half_made_menu_and_the_old_default_in_place(line):
    first = run(line)
    line.fail_next("content", 500)
    with pytest.raises(LineSetupError, match="upload the menu image: HTTP 500"):
        run(line)
    assert list(line.state.menus) == [first.rich_menu_id]
    assert line.state.default == first.rich_menu_id


def test_a_wrong_access_token_is_a_clear_error(line):
    with pytest.raises(LineSetupError, match="HTTP 401") as error:
        line_setup.setup("not-the-token", line.api_url, line.data_url)
    assert "not-the-token" not in str(error.value)
    assert line.state.menus == {}


def test_a_designed_image_can_be_given_instead(line):
    canvas = line_setup.Canvas(WIDTH, HEIGHT, (10, 20, 30))
    designed = canvas.png()
    result = run(line, image=designed)
    assert line.state.menus[result.rich_menu_id].image == designed


@pytest.mark.parametrize("image, problem", [
    (line_setup.Canvas(1200, 405, (0, 0, 0)).png(), "must be 2500x843"),
    (b"GIF89a" + b"\0" * 100, "PNG or a JPEG"),
    (b"\xff\xd8" + b"\0" * (1024 * 1024), "at most 1 MB"),
])
def test_an_unusable_image_is_refused_before_anything_is_created(line, image, problem):
    with pytest.raises(LineSetupError, match=problem):
        run(line, image=image)
    assert line.state.requests == []


def test_the_webhook_url_is_derived_from_the_public_base_url():
    def endpoints(**env: str) -> tuple[str, str, str | None]:
        config = load_config("scheduler", env={
            "SECRET_KEY": "s", "PSEUDONYM_KEY": _KEYS["pseudonym"],
            "ENCRYPTION_KEYS": _KEYS["encryption"], **env})
        return (config.line_api_endpoint, config.line_data_api_endpoint,
                line_setup.webhook_url(config.public_base_url))

    api, data, webhook = endpoints(PUBLIC_BASE_URL="https://madoguchi.city.zushi.example/",
                                   LINE_DATA_API_ENDPOINT="https://data.example")
    assert (api, data) == ("https://api.line.me", "https://data.example")
    assert webhook == "https://madoguchi.city.zushi.example/callback/line"
    assert endpoints() == ("https://api.line.me", "https://api-data.line.me", None)


def test_every_button_but_booking_sends_a_postback():
    # What each button does in the conversation: tests/conversation/test_rich_menu.py.
    actions = {area.action.label: area.action.to_dict() for area in menu_request().areas}
    assert actions["よくある質問"] == {"type": "postback", "label": "よくある質問",
                                 "data": "menu:faq", "displayText": "よくある質問"}
    assert actions["予約"]["type"] == "message"


# -- the command ----------------------------------------------------------------


@pytest.fixture
def cli_env(line, monkeypatch) -> Iterator[None]:
    for name, value in {
        "SECRET_KEY": "s", "PSEUDONYM_KEY": _KEYS["pseudonym"],
        "ENCRYPTION_KEYS": _KEYS["encryption"], "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_CHANNEL_SECRET": "x", "LINE_API_ENDPOINT": line.api_url,
        "LINE_DATA_API_ENDPOINT": line.data_url,
        "PUBLIC_BASE_URL": "https://madoguchi.example.jp",
    }.items():
        monkeypatch.setenv(name, value)
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    yield
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]


def test_the_command_publishes_the_menu_and_prints_the_webhook_url(line, cli_env, capsys):
    main(["line-setup"])
    out = capsys.readouterr().out
    assert f"rich menu {line.state.default} is the default" in out
    assert "webhook URL: https://madoguchi.example.jp/callback/line" in out
    assert "paste it into LINE Developers" in out and line.state.webhook is None


def test_the_command_can_also_set_the_webhook_on_the_channel(line, cli_env, capsys):
    main(["line-setup", "--set-webhook"])
    assert line.state.webhook == "https://madoguchi.example.jp/callback/line"
    assert "set on the channel" in capsys.readouterr().out


def test_the_command_explains_a_failure_in_one_line(line, cli_env, capsys):
    line.fail_next("create", 400)
    with pytest.raises(SystemExit) as exit_code:
        main(["line-setup"])
    assert exit_code.value.code == 1
    assert "LINE refused to create the rich menu: HTTP 400" in capsys.readouterr().err
