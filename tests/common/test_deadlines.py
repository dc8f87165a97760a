import asyncio

from common.deadlines import bounded, set_deadline


async def test_a_call_gets_no_more_than_what_its_rpc_has_left() -> None:
    async def serving(seconds_left: float | None) -> float | None:
        set_deadline(seconds_left)
        return bounded(5.0)

    assert await asyncio.create_task(serving(None)) == 5.0
    left = await asyncio.create_task(serving(0.5))
    assert left is not None and 0.4 < left <= 0.5
    assert await asyncio.create_task(serving(30)) == 5.0
    # Outside any rpc, nothing is cut.
    assert bounded(2.0) == 2.0
    assert bounded(None) is None
