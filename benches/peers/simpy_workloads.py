"""The benchmark workloads in SimPy.

    python3 simpy_workloads.py w1|w2|w3|w4 N
"""
import random
import sys

import simpy


def w1(env, n):
    rng = random.Random(0)

    def sleeper(delay):
        yield env.timeout(delay)

    procs = [env.process(sleeper(rng.uniform(0.0, 10.0))) for _ in range(n)]
    yield simpy.AllOf(env, procs)


def w2(env, n):
    pool = simpy.Resource(env, capacity=100)

    def worker():
        with pool.request() as slot:
            yield slot
            yield env.timeout(1.0)

    procs = [env.process(worker()) for _ in range(n)]
    yield simpy.AllOf(env, procs)


def w3(env, n):
    items = simpy.Store(env, capacity=100)
    all_done = env.event()
    done = [0]

    def consumer():
        while True:
            yield items.get()
            yield env.timeout(0.010)
            done[0] += 1
            if done[0] == n:
                all_done.succeed()

    for _ in range(10):
        env.process(consumer())
    for i in range(n):
        yield env.timeout(0.001)
        yield items.put(i)
    yield all_done  # Store has no join(): wait until every item is processed


def w4(env, n):
    rng = random.Random(0)
    servers = simpy.Resource(env, capacity=10)

    def request(service):
        with servers.request() as slot:
            yield slot
            yield env.timeout(service)

    procs = []
    for _ in range(n):
        yield env.timeout(rng.expovariate(80.0))
        procs.append(env.process(request(rng.expovariate(10.0))))
    yield simpy.AllOf(env, procs)


if __name__ == "__main__":
    workload, n = sys.argv[1], int(sys.argv[2])
    env = simpy.Environment()
    main = env.process({"w1": w1, "w2": w2, "w3": w3, "w4": w4}[workload](env, n))
    env.run(until=main)
