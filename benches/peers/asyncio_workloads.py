"""The benchmark workloads in CPython asyncio, in virtual time.

    python3 asyncio_workloads.py w1|w2|w3|w4 N
"""
import asyncio
import random
import sys

from virtual_loop import run


async def w1(n):
    rng = random.Random(0)

    async def sleeper(delay):
        await asyncio.sleep(delay)

    await asyncio.gather(*(sleeper(rng.uniform(0.0, 10.0)) for _ in range(n)))


async def w2(n):
    pool = asyncio.Semaphore(100)

    async def worker():
        async with pool:
            await asyncio.sleep(1.0)

    await asyncio.gather(*(worker() for _ in range(n)))


async def w3(n):
    items = asyncio.Queue(100)

    async def consumer():
        while True:
            await items.get()
            await asyncio.sleep(0.010)
            items.task_done()

    consumers = [asyncio.create_task(consumer()) for _ in range(10)]
    for i in range(n):
        await asyncio.sleep(0.001)
        await items.put(i)
    await items.join()
    for c in consumers:
        c.cancel()
    await asyncio.gather(*consumers, return_exceptions=True)


async def w4(n):
    rng = random.Random(0)
    servers = asyncio.Semaphore(10)

    async def request(service):
        async with servers:
            await asyncio.sleep(service)

    requests = []
    for _ in range(n):
        await asyncio.sleep(rng.expovariate(80.0))
        requests.append(asyncio.create_task(request(rng.expovariate(10.0))))
    await asyncio.gather(*requests)


if __name__ == "__main__":
    workload, n = sys.argv[1], int(sys.argv[2])
    run({"w1": w1, "w2": w2, "w3": w3, "w4": w4}[workload](n))
