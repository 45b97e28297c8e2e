# The node at work: one loop that feeds the watchdog, serves the sensors, closes windows on the
# UTC clock into signed records, spools them and lets the uplinks carry them.
#
#     n = Node(cfg, slots, state, reset="power_on")   # node.startup.boot() makes it
#     n.serve()                                       # until Ctrl-C; a crash resets the chip
import gc
import sys
import time
import machine
from node import VERSION, Signer, log, forget, watchdog
from node.spool import Spool
from node.clock import Clock, EPOCH
from node.console import Console

# module and class of each uplink, imported only when configured
UPLINKS = (
    ("serial", "node.uplink.serial", "Serial"),
    ("http", "node.uplink.http", "HTTP"),
    ("mqtt", "node.uplink.mqtt", "MQTT"),
)
_STEP_S = 2  # a clock change this large or more splits the window


def _load(module, cls):
    return getattr(__import__(module, None, None, (cls,)), cls)


def crashed(e):
    # A bug or a fault nobody planned for: show it, then start again (a node has no one to
    # press reset); node.startup's safe mode ends a crash loop.
    sys.print_exception(e)
    log("crashed (%s: %s); restarting in 5 s" % (type(e).__name__, e))
    time.sleep(5)
    machine.reset()


class Node:
    def __init__(self, cfg, slots, st, reset):
        # Every attribute is set first: the instance's dict reaches its size while the heap is
        # still in one piece, before the spool, the uplinks and their modules take their share.
        self.id = cfg["node"]
        self.wdt_s = cfg["wdt_s"]
        self.st = st  # node.state: boot counter; marked healthy after the first record
        self.boot = st["boot"]
        self.reset = reset
        self.window_s = cfg["window_s"]
        self.signer = Signer(bytes.fromhex(cfg["key"]))  # signs records, checks the host's replies
        self.replies = [0, -1]  # host replies refused since the start; the seq of the last one
                                # whose time was taken (reply())
        self.slots = slots
        self.spool = self.clock = self.net = self.console = self.sc = self.wdt = None
        self.uplinks = cfg["uplinks"]  # their config; the uplinks themselves when the node runs
        self.up_s = self._up_ms = self.t0 = self.t1 = 0
        self._last = self.end = time.ticks_ms()
        self.spool = Spool("spool", cfg["spool"]["max_records"])
        self.clock = Clock(cfg["ntp"] if cfg["wifi"] else None)  # None: no NTP
        if cfg["wifi"]:
            from node.net import Net

            self.net = Net(cfg["wifi"])
        self.console = Console(self)


    # -- what uplinks and the console call
    def net_up(self):
        return self.net is not None and self.net.up()

    def feed(self):
        """Feed the watchdog. The loop does once a pass, and again before each call that may
        block for a socket's timeout (an uplink, a Sensor.Community POST, NTP): several of those
        can come in one pass, and together they may outlast wdt_s."""
        if self.wdt is not None:
            self.wdt.feed()

    def reply(self, line):
        """A reply of the host (docs/record.md, "Replies"; checked by node.reply, loaded for it):
        the reply (a dict) when obeyed; else None, and the refusal counts (health bad_replies).
        Its acks free the spool; its time is taken only from a reply to the newest record, newer
        than the last one taken, so an old reply played again cannot set an old clock."""
        from node import reply

        doc = reply.verify(self, line)
        reply = None
        forget("reply")  # before the spool's files open: they need the room
        if doc is None:
            self.replies[0] += 1
            return None
        self.spool.ack(doc["ack"])
        t = doc.get("time")
        seq = doc["seq"]
        if type(t) is int and seq == self.spool.last_seq and seq > self.replies[1]:
            self.replies[1] = seq
            self.host_time(t)
        return doc

    def host_time(self, t):
        """The host's time, from a verified reply: through the clock's step rules."""
        q = self.clock.quality
        self._stepped(self.clock.set_host(t), q)

    # -- time
    def _start_window(self, t0=None):
        now_ms = self.clock.now_ms()
        w = self.window_s * 1000
        self.t0 = now_ms // 1000 if t0 is None else t0
        self.t1 = (now_ms // w + 1) * w // 1000
        self._aim(now_ms)

    def _aim(self, now_ms):
        # The tick at which the window's end t1 comes, read on the clock as it is now.
        self.end = time.ticks_add(time.ticks_ms(), self.t1 * 1000 - now_ms)
        for s in self.slots:
            s.window_start(self.end, self.window_s)

    def _stepped(self, step, quality):
        # The clock was set: after a small step the window keeps its t0 and t1 and only the tick
        # of its end moves (at once, when the step went past t1); a large one closes the window
        # as measured on the old clock and starts a new one on the new clock.
        if step is None:
            return
        if -_STEP_S < step < _STEP_S:
            self._aim(self.clock.now_ms())
            return
        old_now = self.clock.now() - step
        log("clock set by %s: moved %+d s" % (self.clock.quality, step))
        if old_now > self.t0 and any(s.stats.n or sum(s.counts()) for s in self.slots):
            self._close(old_now, quality)
        else:
            for s in self.slots:
                s.window_end()
        self._start_window()

    # -- windows
    def _close(self, t1, quality):
        sp = self.spool
        sp.make_room()
        gc.collect()
        rssi = self.net.rssi() if self.net is not None else None
        health = (("heap_free", gc.mem_free()), ("uptime", self.up_s), ("reset", self.reset),
                  ("rssi", rssi), ("spool", sp.count + 1), ("dropped", sp.dropped),
                  ("bad_replies", self.replies[0]))
        seq = sp.last_seq + 1
        hdr = (self.id, self.boot, seq, self.t0, t1, quality, VERSION)
        from node import record  # once a window: loaded for it, then let go

        sp.append(seq, lambda f: record.build(f, self.signer, hdr, self.slots, health))
        record = None
        forget("record")
        gc.collect()  # their code leaves the heap before the uplinks send the record
        if self.sc is not None:
            self.sc.push(self.slots)
        tm = time.gmtime(t1 - EPOCH)
        log("window to %02d:%02d seq %d %s: %s; spool %d" % (
            tm[3], tm[4], seq, quality,
            " ".join("%s %d" % (s.name, s.stats.n) for s in self.slots), sp.count))
        for s in self.slots:
            s.window_end()
        if self.st["pending"]:  # this start worked: it no longer counts towards safe mode
            from node import state

            self.st["pending"] = False
            self.st["crashes"] = 0
            state.save(self.st)

    def run(self):
        w = self.wdt = watchdog(self.wdt_s)
        if type(self.uplinks) is dict:
            # The uplinks and their modules, loaded once node.startup has left the heap (main.py
            # forgets it before serve()): the largest modules come in when there is most room.
            cfg, self.uplinks = self.uplinks, []
            gc.collect()
            for k, m, c in UPLINKS:
                if cfg.get(k) is not None:
                    self.uplinks.append(_load(m, c)(self, cfg[k]))
            if cfg.get("sensor_community") is not None:
                from node.uplink.sensorcommunity import SensorCommunity

                self.sc = SensorCommunity(self, cfg["sensor_community"])
        if self.net is not None:  # a first try at the network and NTP, so windows start right
            for _ in range(20):
                if self.net.up():
                    break
                w.feed()
                time.sleep_ms(500)
            if self.net.up():
                self.clock.sync_ntp(0)
        log("clock %s; windows of %d s; uplinks: %s" % (
            self.clock.quality, self.window_s, ", ".join(u.name for u in self.uplinks) or "none"))
        self._start_window()
        while True:
            now = time.ticks_ms()
            w.feed()
            self._up_ms += time.ticks_diff(now, self._last)  # uptime, without a big int
            self._last = now
            if self._up_ms >= 1000:
                q = self._up_ms // 1000
                self.up_s += q
                self._up_ms -= q * 1000
            for s in self.slots:
                s.service(now)
            if time.ticks_diff(now, self.end) >= 0:
                t1 = self.t1
                self._close(t1, self.clock.quality)
                self._start_window(t1)
                now = time.ticks_ms()
            for u in self.uplinks:
                w.feed()
                u.service(now)
            self.console.service()
            if self.net is not None:
                self.net.service(self.up_s)
                if self.clock.ntp_due(self.up_s) and self.net.up():
                    w.feed()
                    q = self.clock.quality
                    self._stepped(self.clock.sync_ntp(self.up_s), q)
            d = time.ticks_diff(self.end, now)
            for s in self.slots:
                n = s.next_ms(now)
                if n < d:
                    d = n
            if d > 1000:
                d = 1000
            if d > 0:
                time.sleep_ms(d)

    def serve(self):
        """Run until Ctrl-C (then the REPL is free); any other exception resets the chip."""
        try:
            self.run()
        except KeyboardInterrupt:
            if self.st["pending"]:  # a stop asked for (mpremote, tynys doctor) in the first window: no crash
                from node import state

                self.st["pending"] = False
                state.save(self.st)
            log("stopped by Ctrl-C; the REPL is free (the node is `n`). machine.reset() starts measuring again")
            if self.wdt is not None:  # the watchdog cannot be stopped: a Timer keeps feeding it
                watchdog()
        except Exception as e:
            crashed(e)
