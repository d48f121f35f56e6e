import pytest

# "Chromium <version> at <path>", once the browser suite has launched one (for the summary line).
BROWSER_USED = pytest.StashKey[str]()
