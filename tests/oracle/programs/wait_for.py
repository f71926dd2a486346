import asyncio
async def slow():
    await asyncio.sleep(3); return "slow result"
async def quick():
    await asyncio.sleep(0.5); return "quick result"
async def main():
    r = await asyncio.wait_for(quick(), 1); print(f"in time: {r}")
    s1 = asyncio.create_task(slow())
    try: await asyncio.wait_for(s1, 1)
    except asyncio.TimeoutError: print(f"timed out; s1 is {'cancelled' if s1.cancelled() else 'pending'}")
    s2 = asyncio.create_task(slow())
    try: await asyncio.wait_for(asyncio.shield(s2), 1)
    except asyncio.TimeoutError: print(f"timed out; shielded s2 is {'pending' if not s2.done() else 'done'}")
    r = await s2; print(f"s2 finished later: {r}")
asyncio.run(main())
