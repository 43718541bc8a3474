/// An exact fraction of Ints for the generators and the countdown solver; every operation returns nil on
/// overflow or division by zero instead of trapping.
struct Rational: Hashable, Sendable {
    let numerator: Int
    let denominator: Int  // > 0, gcd(numerator, denominator) == 1

    init(_ value: Int) {
        numerator = value
        denominator = 1
    }

    init?(_ numerator: Int, _ denominator: Int) {
        guard denominator != 0, numerator != Int.min, denominator != Int.min else { return nil }
        let sign = denominator < 0 ? -1 : 1
        let g = Rational.gcd(abs(numerator), abs(denominator))
        self.numerator = sign * numerator / g
        self.denominator = sign * denominator / g
    }

    var integerValue: Int? { denominator == 1 ? numerator : nil }

    static func gcd(_ a: Int, _ b: Int) -> Int {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return max(a, 1)
    }

    static func mul(_ a: Int, _ b: Int) -> Int? {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        return o ? nil : r
    }

    static func add(_ a: Int, _ b: Int) -> Int? {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? nil : r
    }

    static func + (a: Rational, b: Rational) -> Rational? {
        guard let x = mul(a.numerator, b.denominator), let y = mul(b.numerator, a.denominator),
              let n = add(x, y), let d = mul(a.denominator, b.denominator) else { return nil }
        return Rational(n, d)
    }

    static func - (a: Rational, b: Rational) -> Rational? {
        guard b.numerator != Int.min else { return nil }
        return a + Rational(-b.numerator, b.denominator)!
    }

    static func * (a: Rational, b: Rational) -> Rational? {
        guard let n = mul(a.numerator, b.numerator), let d = mul(a.denominator, b.denominator) else { return nil }
        return Rational(n, d)
    }

    static func / (a: Rational, b: Rational) -> Rational? {
        guard b.numerator != 0, let n = mul(a.numerator, b.denominator), let d = mul(a.denominator, b.numerator) else { return nil }
        return Rational(n, d)
    }

    static func apply(_ op: Character, _ a: Rational, _ b: Rational) -> Rational? {
        switch op {
        case "+": return a + b
        case "-": return a - b
        case "*": return a * b
        case "/": return a / b
        default: return nil
        }
    }
}
