"""`python -m bot line-setup`: the LINE rich menu, and the webhook URL to configure.

Creates the menu (相談したい / よくある質問 / 予約 / 人と話したい) with line-bot-sdk, uploads
its image to the data API (api-data.line.me, LINE_DATA_API_ENDPOINT), makes it the default
for every friend, then removes earlier menus of the same name, so running it again after a
change replaces the menu instead of piling them up.

The buttons send postbacks to the same entries as the main menu's quick replies
(menu:consult, menu:faq, menu:human; handlers/flows/welcome.py), showing the resident what
they pressed; 予約 sends the text 「予約したい」, as the main menu does, because the booking
flow reads the message's analysis. tests/conversation/test_rich_menu.py taps each area
through the whole conversation.

The image is drawn at run time (2500x843, four panels with pictograms) as a PNG written
with zlib; when Pillow and a Japanese font are installed the labels are printed as well.
A designed image can be given instead with --image (PNG or JPEG, 2500x843, at most 1 MB).
"""

from __future__ import annotations

import logging
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessageAction,
    MessagingApi,
    MessagingApiBlob,
    PostbackAction,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
    SetWebhookEndpointRequest,
)

log = logging.getLogger(__name__)

MENU_NAME = "madoguchi-main"
CHAT_BAR_TEXT = "メニュー"
WIDTH, HEIGHT = 2500, 843
MAX_IMAGE_BYTES = 1024 * 1024  # LINE's limit for a rich menu image
DEFAULT_DATA_ENDPOINT = "https://api-data.line.me"
WEBHOOK_PATH = "/callback/line"
REQUEST_TIMEOUT = (3.05, 30)


@dataclass(frozen=True)
class Button:
    label: str  # on the image and in LINE's accessibility label (max 20)
    text: str  # what the resident is shown to have sent (or sends, without data)
    colour: tuple[int, int, int]
    icon: str
    data: str | None = None  # the postback, when the button is one


BUTTONS: tuple[Button, ...] = (
    Button("相談したい", "相談したい", (232, 119, 34), "bubble", "menu:consult"),
    Button("よくある質問", "よくある質問", (46, 139, 135), "question", "menu:faq"),
    Button("予約", "予約したい", (66, 110, 180), "calendar"),
    Button("人と話したい", "人と話したい", (196, 76, 110), "person", "menu:human"),
)


def _action(button: Button) -> MessageAction | PostbackAction:
    if button.data is None:
        return MessageAction(label=button.label, text=button.text)
    return PostbackAction(label=button.label, data=button.data, display_text=button.text)


class LineSetupError(RuntimeError):
    """A step LINE refused, with its status; the message never holds the token."""


@dataclass(frozen=True)
class SetupResult:
    rich_menu_id: str
    removed: list[str]
    webhook_url: str | None
    webhook_set: bool
    image_bytes: int


def webhook_url(public_base_url: str | None) -> str | None:
    if not public_base_url:
        return None
    return public_base_url.rstrip("/") + WEBHOOK_PATH


def menu_request() -> RichMenuRequest:
    width = WIDTH // len(BUTTONS)
    areas = [
        RichMenuArea(
            bounds=RichMenuBounds(x=i * width, y=0, width=width, height=HEIGHT),
            action=_action(button),
        )
        for i, button in enumerate(BUTTONS)
    ]
    return RichMenuRequest(
        size=RichMenuSize(width=WIDTH, height=HEIGHT), selected=True, name=MENU_NAME,
        chat_bar_text=CHAT_BAR_TEXT, areas=areas,
    )


def setup(
    access_token: str, api_endpoint: str, data_endpoint: str, *,
    image: bytes | None = None, webhook: str | None = None, set_webhook: bool = False,
    font: str | None = None,
) -> SetupResult:
    """Create and publish the menu; optionally point the channel's webhook at us."""
    png = image if image is not None else draw_menu_png(font)
    content_type = check_image(png)
    api = MessagingApi(ApiClient(Configuration(host=api_endpoint, access_token=access_token)))
    blob = MessagingApiBlob(
        ApiClient(Configuration(host=data_endpoint, access_token=access_token)))
    earlier = _call("list rich menus", lambda: api.get_rich_menu_list(
        _request_timeout=REQUEST_TIMEOUT))
    previous = [m.rich_menu_id for m in earlier.richmenus if m.name == MENU_NAME]
    created = _call("create the rich menu", lambda: api.create_rich_menu(
        menu_request(), _request_timeout=REQUEST_TIMEOUT))
    menu_id = created.rich_menu_id
    try:
        _call("upload the menu image", lambda: blob.set_rich_menu_image(
            menu_id, body=png, _headers={"Content-Type": content_type},
            _request_timeout=REQUEST_TIMEOUT))
        _call("make the menu the default", lambda: api.set_default_rich_menu(
            menu_id, _request_timeout=REQUEST_TIMEOUT))
    except LineSetupError:
        # Leave no half-made menu behind; the previous default stays in place.
        _quietly(lambda: api.delete_rich_menu(menu_id, _request_timeout=REQUEST_TIMEOUT))
        raise
    for old in previous:
        _call("remove an earlier menu", lambda old=old: api.delete_rich_menu(
            old, _request_timeout=REQUEST_TIMEOUT))
    if set_webhook and webhook:
        _call("set the webhook URL", lambda: api.set_webhook_endpoint(
            SetWebhookEndpointRequest(endpoint=webhook), _request_timeout=REQUEST_TIMEOUT))
    log.info("line-setup: rich menu published, %d earlier removed", len(previous))
    return SetupResult(menu_id, previous, webhook, bool(set_webhook and webhook), len(png))


def _call(step: str, request: Callable[[], object]) -> object:
    try:
        return request()
    except ApiException as exc:
        raise LineSetupError(f"LINE refused to {step}: HTTP {exc.status} {_reason(exc)}") from None
    except OSError as exc:
        raise LineSetupError(f"could not reach LINE to {step}: {type(exc).__name__}") from None


def _quietly(request: Callable[[], object]) -> None:
    try:
        request()
    except (ApiException, OSError) as exc:
        log.warning("line-setup: clean-up failed (%s)", type(exc).__name__)


def _reason(exc: ApiException) -> str:
    body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else exc.body
    return (body or exc.reason or "")[:200]


# -- the image ------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_image(data: bytes) -> str:
    """The content type of a usable menu image; LineSetupError says what is wrong."""
    if len(data) > MAX_IMAGE_BYTES:
        raise LineSetupError(f"the menu image is {len(data)} bytes; LINE accepts at most 1 MB")
    if data.startswith(PNG_SIGNATURE):
        width, height = struct.unpack(">II", data[16:24])
        if (width, height) != (WIDTH, HEIGHT):
            raise LineSetupError(f"the menu image is {width}x{height}; it must be 2500x843")
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"  # LINE checks a JPEG's size itself
    raise LineSetupError("the menu image must be a PNG or a JPEG")


class Canvas:
    """An RGB raster with the few shapes the pictograms need; filled row span by row span."""

    def __init__(self, width: int, height: int, colour: tuple[int, int, int]) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(colour) * (width * height))

    def span(self, y: int, x0: int, x1: int, colour: tuple[int, int, int]) -> None:
        x0, x1 = max(x0, 0), min(x1, self.width)
        if 0 <= y < self.height and x0 < x1:
            start = (y * self.width + x0) * 3
            self.pixels[start : start + (x1 - x0) * 3] = bytes(colour) * (x1 - x0)

    def rect(self, x0: int, y0: int, x1: int, y1: int, colour: tuple[int, int, int]) -> None:
        for y in range(y0, y1):
            self.span(y, x0, x1, colour)

    def ellipse(self, cx: int, cy: int, rx: int, ry: int, colour: tuple[int, int, int],
                clip: tuple[int, int] | None = None) -> None:
        top, bottom = clip or (cy - ry, cy + ry + 1)
        for y in range(max(cy - ry, top), min(cy + ry + 1, bottom)):
            dy = (y - cy) / ry
            half = int(rx * max(0.0, 1 - dy * dy) ** 0.5)
            self.span(y, cx - half, cx + half + 1, colour)

    def rounded(self, x0: int, y0: int, x1: int, y1: int, r: int,
                colour: tuple[int, int, int]) -> None:
        self.rect(x0 + r, y0, x1 - r, y1, colour)
        self.rect(x0, y0 + r, x1, y1 - r, colour)
        for cx, cy in ((x0 + r, y0 + r), (x1 - r - 1, y0 + r), (x0 + r, y1 - r - 1),
                       (x1 - r - 1, y1 - r - 1)):
            self.ellipse(cx, cy, r, r, colour)

    def triangle(self, apex: tuple[int, int], left: tuple[int, int], right: tuple[int, int],
                 colour: tuple[int, int, int]) -> None:
        """A triangle with a horizontal base (left, right) and an apex above or below it."""
        (ax, ay), (lx, base), (rx, _) = apex, left, right
        step = 1 if base > ay else -1
        for y in range(ay, base + step, step):
            t = (y - ay) / (base - ay) if base != ay else 1.0
            self.span(y, int(ax + (lx - ax) * t), int(ax + (rx - ax) * t) + 1, colour)

    def png(self) -> bytes:
        row = self.width * 3
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * row : (y + 1) * row]) for y in range(self.height)
        )
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(
            b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


WHITE = (255, 255, 255)


def _bubble(c: Canvas, cx: int, cy: int, bg: tuple[int, int, int]) -> None:
    c.rounded(cx - 190, cy - 130, cx + 190, cy + 110, 60, WHITE)
    c.triangle((cx - 120, cy + 190), (cx - 130, cy + 100), (cx - 40, cy + 100), WHITE)
    for dx in (-90, 0, 90):
        c.ellipse(cx + dx, cy - 10, 28, 28, bg)


def _question(c: Canvas, cx: int, cy: int, bg: tuple[int, int, int]) -> None:
    c.ellipse(cx, cy, 230, 230, WHITE)
    hook_y = cy - 60
    c.ellipse(cx, hook_y, 110, 105, bg)
    c.ellipse(cx, hook_y, 55, 52, WHITE)
    c.rect(cx - 111, hook_y, cx, hook_y + 106, WHITE)  # open the hook's lower left
    c.rect(cx - 28, hook_y + 50, cx + 28, cy + 95, bg)
    c.ellipse(cx, cy + 160, 34, 34, bg)


def _calendar(c: Canvas, cx: int, cy: int, bg: tuple[int, int, int]) -> None:
    c.rounded(cx - 200, cy - 170, cx + 200, cy + 200, 40, WHITE)
    c.rect(cx - 200, cy - 95, cx + 200, cy - 75, bg)
    for dx in (-110, 110):
        c.rounded(cx + dx - 22, cy - 215, cx + dx + 22, cy - 120, 18, WHITE)
        c.rect(cx + dx - 8, cy - 170, cx + dx + 8, cy - 120, bg)
    for row in range(3):
        for col in range(4):
            x, y = cx - 150 + col * 100, cy - 40 + row * 75
            c.rect(x - 28, y - 22, x + 28, y + 22, bg)


def _person(c: Canvas, cx: int, cy: int, _bg: tuple[int, int, int]) -> None:
    c.ellipse(cx, cy - 110, 100, 100, WHITE)
    c.ellipse(cx, cy + 210, 210, 200, WHITE, clip=(cy + 10, cy + 211))


ICONS = {"bubble": _bubble, "question": _question, "calendar": _calendar, "person": _person}


def draw_menu_png(font: str | None = None) -> bytes:
    """The drawn menu; labels in `font` (Config.rich_menu_font) or a Japanese font found."""
    canvas = Canvas(WIDTH, HEIGHT, WHITE)
    width = WIDTH // len(BUTTONS)
    font = _label_font(font)
    labelled = font is not None
    for i, button in enumerate(BUTTONS):
        x0 = i * width
        canvas.rect(x0, 0, x0 + width, HEIGHT, button.colour)
        canvas.rect(x0, 0, x0 + 4, HEIGHT, WHITE)  # a thin divider between buttons
        centre_y = 330 if labelled else HEIGHT // 2
        ICONS[button.icon](canvas, x0 + width // 2, centre_y, button.colour)
    png = canvas.png()
    return _with_labels(png, font) if font is not None else png


FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/System/Library/Fonts/ヒラギノ角ゴシック W6.ttc",
)


def _label_font(preferred: str | None) -> str | None:
    """A font that has Japanese, when Pillow is there to use it (the configured one first)."""
    try:
        import PIL  # noqa: F401
    except ImportError:
        return None
    for candidate in (preferred, *FONT_CANDIDATES):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def _with_labels(png: bytes, font_path: str) -> bytes:
    """Print each button's label under its pictogram (Pillow); on any failure, no labels."""
    import io

    try:
        from PIL import Image, ImageDraw, ImageFont

        image = Image.open(io.BytesIO(png)).convert("RGB")
        font = ImageFont.truetype(font_path, 110)
        draw = ImageDraw.Draw(image)
        width = WIDTH // len(BUTTONS)
        for i, button in enumerate(BUTTONS):
            draw.text((i * width + width // 2, 700), button.label, font=font, fill=WHITE,
                      anchor="mm")
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        return out.getvalue()
    except Exception as exc:  # the pictograms alone still make a usable menu
        log.warning("line-setup: labels not drawn (%s)", type(exc).__name__)
        return png
