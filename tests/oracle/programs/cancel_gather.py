import asyncio
async def child(n):
    try:
        await asyncio.sleep(5)
    finally:
        print(f"child[{n}] cancelled at {asyncio.get_running_loop().time()}")
async def parent():
    kids = [asyncio.create_task(child(i)) for i in range(2)]
    await asyncio.gather(*kids)
async def main():
    p = asyncio.create_task(parent())
    await asyncio.sleep(1)
    p.cancel()
    try:
        await p
    except asyncio.CancelledError:
        print(f"parent is {'cancelled' if p.cancelled() else 'x'}")
asyncio.run(main())
