# Faults a simulated sensor or its wiring can have. Attributes may be changed while a simulation
# runs (sim.faults.unplugged = True).
#
#     Faults(noise=0.1, bad=0.05, split=7, replies=0.1, seed=4)
#
# noise      probability that random bytes (1..noise_len) come before a frame
# bad        probability that a frame has one payload byte changed (its checksum/CRC then fails)
# split      > 0: every read returns at most a random 1..split bytes (frames arrive in pieces)
# replies    probability that a command reply (a valid frame with no reading) comes before a frame
# unplugged  nothing is sent, commands are not heard; I2C transactions are NACKed (OSError 19)
# stuck      the sensor repeats its last values (frozen reading, valid frames)
# Protocols without a checksum (BME280, ADS1115 registers, DGS lines) ignore `bad`: there the
# corruption could not be detected by any reader, so the simulator does not pretend it can be.


class Faults:
    def __init__(self, noise=0.0, bad=0.0, split=0, replies=0.0, unplugged=False, stuck=False,
                 noise_len=16, seed=1):
        self.noise = noise
        self.bad = bad
        self.split = split
        self.replies = replies
        self.unplugged = unplugged
        self.stuck = stuck
        self.noise_len = noise_len
        self.seed = seed
