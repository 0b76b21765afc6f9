import XCTest

@testable import HeapServer

final class ConnectionStateMachineTests: XCTestCase {
    func testFramesWaitWhileThePeerDoesNotRead() {
        var machine = ConnectionStateMachine()
        XCTAssertTrue(machine.mayRunFrames)
        XCTAssertEqual(machine.writabilityChanged(to: false), .pauseReading)
        XCTAssertFalse(machine.mayRunFrames)
        XCTAssertEqual(machine.writabilityChanged(to: false), .none, "no second pause")
        XCTAssertEqual(machine.writabilityChanged(to: true), .resume)
        XCTAssertTrue(machine.mayRunFrames)
    }

    func testInputClosedClosesOnceRepliesAreOut() {
        var machine = ConnectionStateMachine()
        XCTAssertEqual(machine.awaitDurability(bytes: 10), .none)
        machine.inputClosed()
        XCTAssertEqual(machine.state, .inputClosed)
        XCTAssertTrue(machine.mayRunFrames, "frames read before the end still run")
        XCTAssertEqual(machine.closeIfDone(), .none, "a reply still waits for the disk")
        XCTAssertEqual(machine.durabilitySettled(bytes: 10), .close)
        XCTAssertEqual(machine.state, .closed)
        XCTAssertFalse(machine.mayRunFrames)
    }

    func testInputClosedWaitsForAPeerThatDoesNotRead() {
        var machine = ConnectionStateMachine()
        _ = machine.writabilityChanged(to: false)
        machine.inputClosed()
        XCTAssertEqual(machine.closeIfDone(), .none, "frames wait: closing now would drop them")
        XCTAssertEqual(machine.writabilityChanged(to: true), .resume)
        XCTAssertEqual(machine.closeIfDone(), .close)
    }

    func testRepliesWaitingForTheDiskAreBounded() {
        var machine = ConnectionStateMachine()
        let half = ConnectionStateMachine.pendingReplyLimit / 2
        XCTAssertEqual(machine.awaitDurability(bytes: half), .none)
        XCTAssertTrue(machine.mayRunFrames)
        XCTAssertTrue(machine.repliesWaitForDisk)
        XCTAssertEqual(machine.awaitDurability(bytes: half), .pauseReading, "over the limit: the socket is not read")
        XCTAssertFalse(machine.mayRunFrames, "over the limit: no more frames run")
        XCTAssertEqual(machine.durabilitySettled(bytes: half), .resume, "under it again: the waiting frames run")
        XCTAssertEqual(machine.durabilitySettled(bytes: half), .none)
        XCTAssertFalse(machine.repliesWaitForDisk)
    }

    func testAnOverflowingSubscriberIsClosedOnce() {
        var machine = ConnectionStateMachine()
        XCTAssertEqual(machine.outboxOverflowed(), .abort, "at once: the peer would never take what is pending")
        XCTAssertEqual(machine.outboxOverflowed(), .none)
        XCTAssertEqual(machine.writabilityChanged(to: false), .none)
        machine.inputClosed()
        XCTAssertEqual(machine.state, .closed)
    }

    /// The input ended while frames waited for replies to reach the disk: they run before the
    /// connection closes.
    func testFramesHeldBackAtTheEndOfInputRunBeforeTheClose() {
        var machine = ConnectionStateMachine()
        XCTAssertEqual(machine.awaitDurability(bytes: ConnectionStateMachine.pendingReplyLimit), .pauseReading)
        machine.inputClosed()
        XCTAssertEqual(machine.closeIfDone(), .none)
        XCTAssertEqual(machine.durabilitySettled(bytes: ConnectionStateMachine.pendingReplyLimit), .resume)
        XCTAssertEqual(machine.closeIfDone(), .close, "after the held frames ran")
    }

    func testNothingRunsWhileASlowHalfIsOffTheLoop() {
        var machine = ConnectionStateMachine()
        XCTAssertEqual(machine.offloadStarted(), .pauseReading)
        XCTAssertFalse(machine.mayRunFrames, "later frames wait: their replies come after this one")
        XCTAssertEqual(machine.writabilityChanged(to: false), .pauseReading)
        XCTAssertEqual(machine.writabilityChanged(to: true), .none, "still offloaded: no resume yet")
        machine.inputClosed()
        XCTAssertEqual(machine.closeIfDone(), .none, "not before the offloaded reply is out")
        XCTAssertEqual(machine.offloadFinished(), .resume, "held frames run, then the close")
        XCTAssertEqual(machine.closeIfDone(), .close)
    }

    func testAnOffloadEndingWhileThePeerDoesNotReadWaitsForIt() {
        var machine = ConnectionStateMachine()
        _ = machine.offloadStarted()
        XCTAssertEqual(machine.writabilityChanged(to: false), .pauseReading)
        XCTAssertEqual(machine.offloadFinished(), .none)
        XCTAssertEqual(machine.writabilityChanged(to: true), .resume)
    }
}
