"""Walk-in queue in open consultation hours: waiting numbers, call next, a waiting-room screen."""

# The waiting-room screen reloads itself this often (the accessibility statement says so too).
DISPLAY_REFRESH_SECONDS = 10
