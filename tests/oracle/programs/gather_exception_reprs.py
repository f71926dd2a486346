import asyncio


async def slow():
    await asyncio.sleep(10)


async def late():
    async with asyncio.timeout(0.1):
        await asyncio.sleep(1)


async def boom():
    raise Exception("boom")


async def main():
    s = asyncio.create_task(slow())
    t = asyncio.create_task(late())
    b = asyncio.create_task(boom())
    await asyncio.sleep(0.5)
    s.cancel()
    result = await asyncio.gather(s, t, b, return_exceptions=True)
    print(result)


asyncio.run(main())
