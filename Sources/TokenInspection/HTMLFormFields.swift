/// The named fields an HTML page would submit: every `<input>` with a `name` and a `value`, and every `<textarea>`
/// with a `name` and its text. Read as the HTML tokenizer reads tags (WHATWG 13.2.5), so that a spelling a browser
/// takes cannot hide a field: attributes separated by any HTML white space or `/`, white space around `=`, a `>`
/// inside a quoted value, character references in values (`id&#95;token`). Names and tag names compare without
/// ASCII case; the first of an attribute given twice counts, as in HTML.
enum HTMLFormFields {
    struct Field {
        let name: [UInt8]
        let value: [UInt8]
    }

    static func read(_ page: [UInt8]) -> [Field] {
        var fields: [Field] = []
        var index = 0
        while let open = page[index...].firstIndex(of: UInt8(ascii: "<")) {
            index = open + 1
            guard let (tag, afterName) = tagName(page, from: index), tag == "input" || tag == "textarea" else {
                continue
            }
            let (attributes, end) = readAttributes(page, from: afterName)
            index = end
            guard let name = attributes["name"] else { continue }
            if tag == "input", let value = attributes["value"] {
                fields.append(Field(name: decoded(name), value: decoded(value)))
            } else if tag == "textarea" {
                let close = find(Array("</textarea".utf8), in: page, from: end) ?? page.endIndex
                fields.append(Field(name: decoded(name), value: decoded(page[end..<close])))
                index = close
            }
        }
        return fields
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D
    }

    /// A tag's name (lower case) after `<`, and where its attributes start.
    private static func tagName(_ page: [UInt8], from start: Int) -> (String, Int)? {
        var end = start
        while end < page.count, !isSpace(page[end]), page[end] != UInt8(ascii: "/"), page[end] != UInt8(ascii: ">") {
            end += 1
            if end - start > 8 { return nil }
        }
        guard end > start else { return nil }
        return (String(decoding: page[start..<end].map { $0 | 0x20 }, as: UTF8.self), end)
    }

    /// A tag's attributes (names lower case; the first of a name counts) and the index after its `>`.
    private static func readAttributes(_ page: [UInt8], from start: Int) -> ([String: ArraySlice<UInt8>], Int) {
        var attributes: [String: ArraySlice<UInt8>] = [:]
        var index = start
        while index < page.count {
            while index < page.count, isSpace(page[index]) || page[index] == UInt8(ascii: "/") { index += 1 }
            guard index < page.count else { return (attributes, page.count) }
            guard page[index] != UInt8(ascii: ">") else { return (attributes, index + 1) }
            let nameStart = index
            index += 1  // a name may begin with `=`
            while index < page.count, !isSpace(page[index]),
                ![UInt8(ascii: "/"), UInt8(ascii: ">"), UInt8(ascii: "=")]
                    .contains(page[index])
            {
                index += 1
            }
            let name = String(decoding: page[nameStart..<index].map { $0 | 0x20 }, as: UTF8.self)
            var after = index
            while after < page.count, isSpace(page[after]) { after += 1 }
            var value: ArraySlice<UInt8> = []
            if after < page.count, page[after] == UInt8(ascii: "=") {
                index = after + 1
                while index < page.count, isSpace(page[index]) { index += 1 }
                if index < page.count, page[index] == UInt8(ascii: "\"") || page[index] == UInt8(ascii: "'") {
                    let quote = page[index]
                    let end = page[(index + 1)...].firstIndex(of: quote) ?? page.endIndex
                    value = page[(index + 1)..<end]
                    index = min(end + 1, page.count)
                } else {
                    let valueStart = index
                    while index < page.count, !isSpace(page[index]), page[index] != UInt8(ascii: ">") { index += 1 }
                    value = page[valueStart..<index]
                }
            }
            if attributes[name] == nil { attributes[name] = value }
        }
        return (attributes, page.count)
    }

    /// `&#NN;`, `&#xHH;` and the named references a field's name or a token could be spelt with, decoded.
    private static func decoded(_ text: ArraySlice<UInt8>) -> [UInt8] {
        guard text.contains(UInt8(ascii: "&")) else { return Array(text) }
        let named: [String: String] = [
            "lowbar": "_", "amp": "&", "quot": "\"", "apos": "'", "lt": "<", "gt": ">", "period": ".", "hyphen": "-",
            "dash": "-", "equals": "=",
        ]
        var out: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            guard text[index] == UInt8(ascii: "&"),
                let semicolon = text[index...].prefix(12).firstIndex(of: UInt8(ascii: ";"))
            else {
                out.append(text[index])
                index += 1
                continue
            }
            let reference = String(decoding: text[(index + 1)..<semicolon], as: UTF8.self)
            var scalar: Unicode.Scalar?
            if reference.hasPrefix("#x") || reference.hasPrefix("#X") {
                scalar = UInt32(reference.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
            } else if reference.hasPrefix("#") {
                scalar = UInt32(reference.dropFirst(), radix: 10).flatMap(Unicode.Scalar.init)
            } else {
                scalar = named[reference.lowercased()]?.unicodeScalars.first
            }
            guard let scalar else {
                out.append(text[index])
                index += 1
                continue
            }
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
            index = semicolon + 1
        }
        return out
    }

    /// The first place `needle` (lower-case ASCII) occurs in `haystack` at or after `start`, without ASCII case.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var index = start
        while index + needle.count <= haystack.count {
            var matches = true
            for offset in 0..<needle.count {
                let byte = haystack[index + offset]
                let folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
                if folded != needle[offset] {
                    matches = false
                    break
                }
            }
            if matches { return index }
            index += 1
        }
        return nil
    }
}
