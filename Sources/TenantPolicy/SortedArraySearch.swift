extension Array where Element: Comparable {
    /// The first index whose element is not below `element`, in an array sorted ascending: where `element` is, or
    /// where it would go. A binary search: policies keep their rules, and the policy library its document names, in
    /// sorted arrays rather than hashed tables.
    package func insertionPoint(of element: Element) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle] < element { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
