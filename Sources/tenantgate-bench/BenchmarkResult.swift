/// One measured figure, printed as a table row.
struct BenchmarkResult {
    let name: String
    let operations: Int
    let seconds: Double
    /// Printed so the optimiser cannot drop the measured work.
    let checksum: Int

    var perSecond: Double { Double(operations) / seconds }
    var nanosecondsPerOperation: Double { seconds * 1e9 / Double(operations) }
}
