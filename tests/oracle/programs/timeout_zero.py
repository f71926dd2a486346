import asyncio


async def zero():
    try:
        async with asyncio.timeout(0):
            await asyncio.sleep(0)
            print("never reached")
    except TimeoutError as error:
        print(f"timed out at the first yield: {type(error).__name__}")


async def busy():
    for i in range(3):
        print(f"busy turn {i}")
        await asyncio.sleep(0)


async def main():
    await asyncio.gather(zero(), busy())


asyncio.run(main())
