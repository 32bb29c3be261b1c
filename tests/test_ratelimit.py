from crm_backends.ratelimit import SlidingWindowLimiter


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_never_more_than_the_limit_in_any_window():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(3, 1.0, clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(10):
        limiter.acquire()
        sent.append(clock.now)
    assert sent[:3] == [0.0, 0.0, 0.0]
    for i in range(3, 10):
        assert sent[i] - sent[i - 3] >= 1.0  # the 4th request waits until the 1st left the window


def test_pause_holds_everything_back():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(5, 1.0, clock=clock, sleep=clock.sleep)
    limiter.pause(3.0)
    limiter.acquire()
    assert clock.now >= 3.0
