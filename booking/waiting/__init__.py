"""Walk-in queue in open consultation hours: waiting numbers, call next, a waiting-room screen."""
