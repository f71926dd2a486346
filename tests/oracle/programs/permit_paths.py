import asyncio
pool = asyncio.Semaphore(1)
def now(): return asyncio.get_running_loop().time()
def state(t):
    if not t.done(): return "pending"
    if t.cancelled(): return "cancelled"
    return "failed" if t.exception() else "done"
async def holder():
    async with pool:
        print("holder has the permit"); await asyncio.sleep(1); raise RuntimeError("holder broke")
async def quitter():
    await asyncio.sleep(0.1); print("quitter waits for the permit")
    async with pool: print("quitter never gets here")
async def returner():
    await asyncio.sleep(0.2)
    async with pool:
        print(f"returner has the permit at {now():.1f}"); await asyncio.sleep(0.5)
        return "returned inside with"
    print("never printed")
async def yielder():
    print("yielder before sleep(0)"); await asyncio.sleep(0); print("yielder after sleep(0)")
async def late():
    await asyncio.sleep(2)
    async with pool: print(f"late has the permit at {now():.1f}")
async def main():
    h = asyncio.create_task(holder()); q = asyncio.create_task(quitter())
    r = asyncio.create_task(returner()); y = asyncio.create_task(yielder())
    never = asyncio.create_task(late()); never.cancel()
    print("main runs before the others start")
    await asyncio.sleep(0.5); q.cancel()
    await asyncio.gather(h, q, r, y, never, return_exceptions=True)
    print(f"returner returned {r.result()}")
    print(f"states: {state(h)} {state(q)} {state(r)} {state(y)} {state(never)}")
    late2 = asyncio.create_task(late()); await late2
    print(f"late2 is {state(late2)}")
asyncio.run(main())
