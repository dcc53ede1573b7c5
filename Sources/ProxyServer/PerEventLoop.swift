import NIOCore

/// One value per event loop of a group, built once at start and looked up by loop.
///
/// Each value is only ever touched on its own loop, which is what makes sharing the container across threads
/// sound: no locks on the data path.
final class PerEventLoop<Value>: @unchecked Sendable {
    private let values: [ObjectIdentifier: Value]

    init(group: any EventLoopGroup, make: (any EventLoop) -> Value) {
        var values: [ObjectIdentifier: Value] = [:]
        for loop in group.makeIterator() { values[ObjectIdentifier(loop)] = make(loop) }
        self.values = values
    }

    /// The value of `loop`, which must belong to the group: every channel of the proxy is created on it.
    func value(for loop: any EventLoop) -> Value {
        guard let value = values[ObjectIdentifier(loop)] else {
            preconditionFailure("event loop \(loop) is not one of the proxy's")
        }
        return value
    }
}
