import asyncio


async def getter(inbox, k):
    item = await inbox.get()
    print(f"getter {k} got {item}")


async def putter(slots, k):
    await slots.put(f"from-{k}")
    print(f"putter {k} is in")


async def main():
    inbox = asyncio.Queue()
    slots = asyncio.Queue(maxsize=1)
    getters = [asyncio.create_task(getter(inbox, k)) for k in range(5)]
    await asyncio.sleep(0.1)
    for i in range(5):
        await inbox.put(f"item-{i}")
        await asyncio.sleep(1)
    await asyncio.gather(*getters)
    await slots.put("first")
    putters = [asyncio.create_task(putter(slots, k)) for k in range(5)]
    await asyncio.sleep(0.1)
    for _ in range(6):
        item = await slots.get()
        print(f"main took {item}")
        await asyncio.sleep(1)
    await asyncio.gather(*putters)


asyncio.run(main())
