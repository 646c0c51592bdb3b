"""Balance driver against the simulated balance, through a real pseudo-terminal."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from devices.scale import (
    MtSicsScale,
    ScaleCommandError,
    ScaleDisconnected,
    ScaleOverload,
    ScaleProtocolError,
    ScaleTimeout,
    ScaleUnderload,
)
from devices.scale.simulator import ScaleSimulator


@pytest.fixture
def sim() -> Iterator[ScaleSimulator]:
    s = ScaleSimulator(settle_s=0.2, stability_wait_s=0.3, seed=1)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def scale(sim: ScaleSimulator) -> Iterator[MtSicsScale]:
    drv = MtSicsScale(sim.path, timeout=0.5, retries=3, stable_timeout=5.0)
    yield drv
    drv.close()


def test_identify_reports_model_serial_and_firmware(scale: MtSicsScale) -> None:
    """`inspector devices` can show which balance is attached (I2/I3/I4)."""
    ident = scale.identify()
    assert ident.serial == "B947023614"
    assert ident.model == "XS205DU"
    assert ident.capacity == "220.000 g"
    assert ident.firmware == "2.10 SIM"
    assert scale.reset() == "B947023614"


def test_stable_weight_in_milligrams_and_carats(sim: ScaleSimulator, scale: MtSicsScale) -> None:
    """A ring placed on the pan is reported as exact integer milligrams and carats."""
    sim.place(3_217, settle_s=0)
    w = scale.stable_weight()
    assert w.stable and w.mg == 3_217 and w.unit == "g"
    assert str(w.carats) == "16.085"
    assert w.millicarats == 16_085


def test_dynamic_readings_before_stable(sim: ScaleSimulator, scale: MtSicsScale) -> None:
    """While the load settles SI says dynamic; S waits and returns the settled value."""
    sim.place(12_345, settle_s=1.0)
    first = scale.immediate_weight()
    assert not first.stable
    stable = scale.stable_weight(timeout=5)
    assert stable.stable and stable.mg == 12_345


def test_stable_weight_times_out_with_clear_error(sim: ScaleSimulator, scale: MtSicsScale) -> None:
    """A load that never settles gives ScaleTimeout, not a hang and not a wrong value."""
    sim.place(5_000, settle_s=60)
    with pytest.raises(ScaleTimeout, match="no stable weight"):
        scale.stable_weight(timeout=0.6)


def test_tare_and_clear_tare(sim: ScaleSimulator, scale: MtSicsScale) -> None:
    """Taring a tray makes the item weigh net; the stored tare can be read and cleared."""
    sim.place(10_000, settle_s=0)
    assert scale.tare().mg == 10_000
    assert scale.stable_weight().mg == 0
    sim.place(12_500, settle_s=0)
    assert scale.stable_weight().mg == 2_500
    assert scale.tare_value().mg == 10_000
    scale.clear_tare()
    assert scale.stable_weight().mg == 12_500


def test_zero_and_zero_immediately(sim: ScaleSimulator, scale: MtSicsScale) -> None:
    """Z sets a new zero on a stable reading; ZI zeroes at once and says if it was stable."""
    sim.place(700, settle_s=0)
    scale.zero()
    assert scale.stable_weight().mg == 0
    sim.place(1_700, settle_s=0)
    assert scale.zero_immediately() is True
    assert scale.immediate_weight().mg == 0


def test_tare_and_zero_on_a_moving_load_time_out(sim: ScaleSimulator, scale: MtSicsScale) -> None:
    """T and Z on a load that never settles give a ScaleTimeout naming the action, and store nothing."""
    sim.place(4_000, settle_s=60)
    with pytest.raises(ScaleTimeout, match="tare not possible"):
        scale.tare(timeout=0.4)
    with pytest.raises(ScaleTimeout, match="zero not possible"):
        scale.zero(timeout=0.4)
    assert scale.tare_value().mg == 0
    sim.place(4_000, settle_s=0)
    assert scale.stable_weight().mg == 4_000


def test_overload_and_underload(sim: ScaleSimulator, scale: MtSicsScale) -> None:
    """Too heavy a load and a missing pan are distinct, explained errors."""
    sim.place(sim.capacity_mg + 1, settle_s=0)
    with pytest.raises(ScaleOverload):
        scale.stable_weight()
    with pytest.raises(ScaleOverload):
        scale.immediate_weight()
    sim.place(0, settle_s=0)
    sim.pan_missing = True
    with pytest.raises(ScaleUnderload):
        scale.immediate_weight()


@pytest.mark.parametrize("unit,expected", [("mg", 1_234), ("kg", 1_234), ("ct", 1_234)])
def test_other_units_convert_to_milligrams(unit: str, expected: int) -> None:
    """A balance set to mg, kg or carats still yields integer milligrams."""
    with ScaleSimulator(unit=unit, settle_s=0) as sim:
        sim.place(1_234, settle_s=0)
        with MtSicsScale(sim.path, timeout=0.5) as drv:
            w = drv.stable_weight()
    assert w.unit == unit
    # kg shows 6 decimals (1 mg), ct shows 3 decimals (0.2 mg): both exact here
    assert w.mg == expected


def test_corrupted_replies_are_retried(sim: ScaleSimulator, scale: MtSicsScale) -> None:
    """Line noise in a reply is detected and the command re-sent; the value is right."""
    sim.place(4_321, settle_s=0)
    sim.faults.corrupt_next = 2
    assert scale.stable_weight().mg == 4_321
    assert scale.stats["retries"] == 2


def test_dropped_reply_is_retried(sim: ScaleSimulator, scale: MtSicsScale) -> None:
    """A lost reply costs one timeout and a re-send, not the measurement."""
    sim.faults.drop_next = 1
    assert scale.serial_number() == "B947023614"
    assert scale.stats["retries"] == 1


def test_a_late_syntax_error_is_not_taken_for_the_answer(sim: ScaleSimulator, scale: MtSicsScale) -> None:
    """A late ES (the balance's answer to garbage another driver sent while probing the port) that
    arrives just before the real reply does not fail the identify or the weighing, nor cost a re-send;
    an ES to a command the balance really does not know is still reported."""
    sim.place(2_500, settle_s=0)
    sim.faults.stale_next = 2
    assert scale.serial_number() == "B947023614"
    assert scale.immediate_weight().mg == 2_500
    assert scale.stats["retries"] == 0
    sim.faults.stale_next = 1
    with pytest.raises(ScaleCommandError, match="syntax error"):
        scale.command("PWR")


def test_retries_are_bounded(sim: ScaleSimulator, scale: MtSicsScale) -> None:
    """A line that only carries garbage fails with a clear error after a bounded number of tries."""
    sim.faults.corrupt_rate = 1.0
    with pytest.raises(ScaleProtocolError, match="after 4 attempts"):
        scale.immediate_weight()


def test_unplug_mid_command_then_reconnect(sim: ScaleSimulator, scale: MtSicsScale) -> None:
    """Pulling the cable mid-command raises ScaleDisconnected; after replug the same driver works."""
    assert scale.serial_number()
    sim.faults.unplug_on_next_command = True
    with pytest.raises(ScaleDisconnected, match="disconnected"):
        scale.stable_weight()
    with pytest.raises(ScaleDisconnected, match="cannot open"):
        scale.serial_number()
    sim.replug()
    sim.place(900, settle_s=0)
    assert scale.stable_weight().mg == 900
    assert scale.stats["reconnects"] >= 1


def test_unplug_while_waiting_for_a_slow_reply(sim: ScaleSimulator, scale: MtSicsScale) -> None:
    """A cable pulled while the balance is still thinking ends the wait with ScaleDisconnected."""
    sim.faults.delay_s = 30
    seen = threading.Event()
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            scale.serial_number()
        except BaseException as exc:
            errors.append(exc)
        seen.set()

    t = threading.Thread(target=ask)
    t.start()
    for _ in range(200):
        if sim.received:
            break
        seen.wait(0.01)
    sim.unplug()
    t.join(timeout=10)
    assert not t.is_alive()
    assert errors and isinstance(errors[0], ScaleDisconnected)
    sim.faults.delay_s = 0
    sim.replug()
    assert scale.serial_number() == "B947023614"


def test_replug_while_idle_is_transparent(sim: ScaleSimulator, scale: MtSicsScale) -> None:
    """A cable pulled and plugged back between two weighings costs nothing: the driver reopens."""
    assert scale.serial_number()
    sim.unplug()
    sim.replug()
    sim.place(2_000, settle_s=0)
    assert scale.stable_weight().mg == 2_000
    assert scale.stats["reconnects"] == 1


def test_missing_port_is_a_clear_error() -> None:
    """A wrong port name says which port could not be opened."""
    with pytest.raises(ScaleDisconnected, match="/nonexistent/ttyX"):
        MtSicsScale("/nonexistent/ttyX").connect()


def test_works_over_pyserial_url_loopback() -> None:
    """The driver takes any pyserial URL; over loop:// it sees its own command and gives up cleanly."""
    drv = MtSicsScale("loop://", timeout=0.2, retries=1)
    with pytest.raises(ScaleProtocolError):
        drv.serial_number()  # the echo "I4" has no status: never accepted as a reply
    drv.close()


def test_standalone_simulator_process() -> None:
    """`python -m devices.scale.simulator` prints a port a driver can use, and takes stdin commands."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "devices.scale.simulator", "--settle", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        path = proc.stdout.readline().strip()
        with MtSicsScale(path, timeout=1.0) as drv:
            assert drv.serial_number() == "B947023614"
            proc.stdin.write("place 1500\n")
            proc.stdin.flush()
            for _ in range(100):  # the stdin line is handled asynchronously
                if drv.immediate_weight().mg == 1_500:
                    break
                threading.Event().wait(0.02)
            assert drv.stable_weight().mg == 1_500
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


def test_ethernet_balance_over_socket_url(sim: ScaleSimulator) -> None:
    """A balance behind a serial-to-Ethernet bridge works through a socket:// URL."""
    import shutil
    import socket
    import subprocess

    socat = shutil.which("socat")
    if socat is None:
        pytest.skip("socat not installed (Debian package socat)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bridge = subprocess.Popen(
        [socat, f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr", f"FILE:{sim.path},raw,echo=0"]
    )
    try:
        drv = MtSicsScale(f"socket://127.0.0.1:{port}", timeout=1.0)
        for _ in range(100):  # wait for socat to listen
            try:
                drv.connect()
                break
            except ScaleDisconnected:
                threading.Event().wait(0.05)
        sim.place(777, settle_s=0)
        assert drv.stable_weight().mg == 777
        drv.close()
    finally:
        bridge.terminate()
        bridge.wait(timeout=5)


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[ScaleSimulator]:
    s = ScaleSimulator(settle_s=0, seed=3)
    s.start()
    yield s
    s.stop()


def test_faults_never_yield_a_wrong_weight(shared_sim: ScaleSimulator) -> None:
    """Whatever mix of corrupted and dropped replies: the driver returns the true weight or a
    clear ScaleProtocolError, never a wrong number (property test over fault sequences)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    drv = MtSicsScale(shared_sim.path, timeout=0.15, retries=3)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.integers(0, 6), st.integers(0, 2), st.integers(0, 200_000))
    def check(corrupt: int, drop: int, mg: int) -> None:
        shared_sim.faults.corrupt_next = corrupt
        shared_sim.faults.drop_next = drop
        shared_sim.place(mg, settle_s=0)
        try:
            w = drv.immediate_weight()
        except ScaleProtocolError:
            assert corrupt + drop > drv.retries
        else:
            assert w.mg == mg and w.stable
        shared_sim.faults.corrupt_next = shared_sim.faults.drop_next = 0

    try:
        check()
    finally:
        drv.close()


def test_raw_command_escape_hatch(sim: ScaleSimulator, scale: MtSicsScale) -> None:
    """Extra MT-SICS commands can be sent raw; unknown ones give the balance's syntax error."""
    from devices.scale import ScaleCommandError

    assert scale.command("I4").fields == ("B947023614",)
    with pytest.raises(ScaleCommandError, match="syntax error"):
        scale.command("XYZ")
    with pytest.raises(ValueError):
        scale.command("S\r\nZ")
