# Emulated media.media: the board's buffer manager has nothing to do here.


class MediaManager:
    @staticmethod
    def init():
        pass

    @staticmethod
    def deinit():
        pass
