import CHDF5
import Foundation
import XCTest
@testable import Trajectories

final class TrajectoryStoreTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws { directory = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    // MARK: Round trip

    func testWrittenStepsReadBackEqual() throws {
        let path = directory + "/run.h5"
        let records = try writeRun(at: path, steps: 0...4)
        let reader = try TrajectoryReader(path: path)
        XCTAssertEqual(reader.metadata, testMetadata)
        XCTAssertEqual(reader.steps, [0, 1, 2, 3, 4])
        for record in records {
            XCTAssertEqual(try reader.record(ofStep: record.metrics.step), record, "step \(record.metrics.step)")
        }
        let summaries = try reader.summaries()
        XCTAssertEqual(summaries.map(\.metrics), records.map(\.metrics))
        for (summary, record) in zip(summaries, records) {
            XCTAssertEqual(summary.rewards, RewardStatistics(of: record.completions, ruleCount: 2))
            let tokens = record.completions.reduce(0) { $0 + $1.length }
            XCTAssertEqual(summary.completionLengthMean, Double(tokens) / Double(record.completions.count))
            XCTAssertEqual(summary.tokenRows.count, tokens)
            XCTAssertEqual(summary.completionRows.count, record.completions.count)
            XCTAssertGreaterThan(summary.writeSeconds, 0)
            XCTAssertEqual(summary.wallTime, Date().timeIntervalSince1970, accuracy: 60)
        }
        // Rows of consecutive steps are contiguous.
        for (previous, next) in zip(summaries, summaries.dropFirst()) {
            XCTAssertEqual(previous.completionRows.upperBound, next.completionRows.lowerBound)
            XCTAssertEqual(previous.tokenRows.upperBound, next.tokenRows.lowerBound)
            XCTAssertEqual(previous.promptRows.upperBound, next.promptRows.lowerBound)
        }
    }

    /// In one process HDF5 shares the writer's file with the reader; across processes the h5py tests check SWMR.
    func testReaderRefreshSeesStepsWrittenSinceOpening() throws {
        let path = directory + "/run.h5"
        let writer = try TrajectoryWriter(creating: path, metadata: testMetadata)
        try writer.append(makeStep(0))
        let reader = try TrajectoryReader(path: path)
        XCTAssertEqual(reader.steps, [0])
        try writer.append(makeStep(1))
        XCTAssertEqual(reader.steps, [0])
        try reader.refresh()
        XCTAssertEqual(reader.steps, [0, 1])
        XCTAssertEqual(try reader.record(ofStep: 1), makeStep(1))
        reader.close()
        try writer.append(makeStep(2))  // closing the reader leaves the writer's file open
        try writer.close()
        XCTAssertEqual(try TrajectoryReader(path: path).steps, [0, 1, 2])
    }

    func testRewardStatisticsArePopulationMeanAndDeviation() {
        let completions = [1, 3].map {
            CompletionRecord(group: 0, text: "", tokenIDs: [], finishReason: .eos, rewards: [Float($0), 0],
                             totalReward: Float($0) * 2, advantage: 0)
        }
        let statistics = RewardStatistics(of: completions, ruleCount: 2)
        XCTAssertEqual(statistics.ruleMeans, [2, 0])
        XCTAssertEqual(statistics.ruleStandardDeviations, [1, 0])
        XCTAssertEqual(statistics.totalMean, 4)
        XCTAssertEqual(statistics.totalStandardDeviation, 2)
    }

    func testEvaluationsReadBackEqualAndInterleaveWithSteps() throws {
        let path = directory + "/run.h5"
        let writer = try TrajectoryWriter(creating: path, metadata: testMetadata)
        let first = EvaluationRecord(step: 0, k: 4, passAt1: 0.25, passAtK: 0.5, problems: [
            EvaluationProblem(problemIndex: 3, correct: true, correctSamples: 2),
            EvaluationProblem(problemIndex: 9, correct: false, correctSamples: 0),
        ])
        let second = EvaluationRecord(step: 1, k: 4, passAt1: 0.5, passAtK: 1, majAtK: 0.5, problems: [
            EvaluationProblem(problemIndex: 3, correct: true, correctSamples: 4),
        ])
        try writer.appendEvaluation(first)
        try writer.append(makeStep(0))
        try writer.append(makeStep(1))
        try writer.appendEvaluation(second)
        try writer.close()
        let reader = try TrajectoryReader(path: path)
        XCTAssertEqual(try reader.evaluations(), [first, second])
        XCTAssertEqual(reader.steps, [0, 1])
    }

    func testNulCharactersInTextAreStoredAsReplacementCharacter() throws {
        let path = directory + "/run.h5"
        var record = makeStep(0)
        record.completions[0].text = "before\0after"
        let writer = try TrajectoryWriter(creating: path, metadata: testMetadata)
        try writer.append(record)
        try writer.close()
        XCTAssertEqual(try TrajectoryReader(path: path).record(ofStep: 0).completions[0].text, "before\u{FFFD}after")
    }

    func testLongExperimentTextAndLongCompletionsRoundTrip() throws {
        let path = directory + "/run.h5"
        var metadata = testMetadata
        metadata.experiment = String(repeating: "training:\n  beta: 0.04  # ünïcødé ✓\n", count: 8_000)  // ~250 KB
        var record = makeStep(0)
        record.completions[0].text = String(repeating: "长文本 long text ", count: 20_000)
        let writer = try TrajectoryWriter(creating: path, metadata: metadata)
        try writer.append(record)
        try writer.close()
        let reader = try TrajectoryReader(path: path)
        XCTAssertEqual(reader.metadata.experiment, metadata.experiment)
        XCTAssertEqual(try reader.record(ofStep: 0), record)
    }

    func testAppendingAfterCloseSaysTheWriterIsClosed() throws {
        let path = directory + "/run.h5"
        let writer = try TrajectoryWriter(creating: path, metadata: testMetadata)
        try writer.close()
        XCTAssertThrowsTrajectoryError(try writer.append(makeStep(0)), .writerClosed(path: path))
        try writer.close()  // closing twice does nothing
    }

    func testRunWithoutRulesOrExtraMetricsRoundTrips() throws {
        let path = directory + "/run.h5"
        let (metadata, record) = try writeRunWithoutRules(at: path)
        let reader = try TrajectoryReader(path: path)
        XCTAssertEqual(reader.metadata, metadata)
        XCTAssertEqual(try reader.record(ofStep: 0), record)
    }

    // MARK: Resume

    func testResumeDropsStepsAfterCheckpointAndAppendsFromThere() throws {
        let path = directory + "/run.h5"
        let original = try writeRun(at: path, steps: 0...4)
        let writer = try TrajectoryWriter(resuming: path, keepingStepsThrough: 2)
        XCTAssertEqual(writer.lastStep, 2)
        XCTAssertEqual(writer.metadata, testMetadata)
        let continued = [makeStep(3, seed: 99), makeStep(4, seed: 99), makeStep(5, seed: 99)]
        XCTAssertNotEqual(continued[0], original[3])
        for record in continued { try writer.append(record) }
        try writer.close()

        let reader = try TrajectoryReader(path: path)
        XCTAssertEqual(reader.steps, [0, 1, 2, 3, 4, 5])
        for record in original[0...2] + continued {
            XCTAssertEqual(try reader.record(ofStep: record.metrics.step), record, "step \(record.metrics.step)")
        }
        let summaries = try reader.summaries()
        for (previous, next) in zip(summaries, summaries.dropFirst()) {
            XCTAssertEqual(previous.tokenRows.upperBound, next.tokenRows.lowerBound)
        }
        XCTAssertEqual(summaries.last?.tokenRows.upperBound, try totalRows(path, "tokens/token_id"))
        XCTAssertEqual(summaries.last?.completionRows.upperBound, try totalRows(path, "completions/text"))
    }

    func testResumeDropsEvaluationsAfterCheckpoint() throws {
        let path = directory + "/run.h5"
        let writer = try TrajectoryWriter(creating: path, metadata: testMetadata)
        for step in 0...3 {
            try writer.append(makeStep(step))
            try writer.appendEvaluation(EvaluationRecord(step: step, k: 2, passAt1: 0.5, passAtK: 1, problems: [
                EvaluationProblem(problemIndex: step, correct: true, correctSamples: 1),
            ]))
        }
        try writer.close()
        try TrajectoryWriter(resuming: path, keepingStepsThrough: 1).close()
        XCTAssertEqual(try TrajectoryReader(path: path).evaluations().map(\.step), [0, 1])
        XCTAssertEqual(try totalRows(path, "eval_problems/problem_index"), 2)
    }

    func testResumeWithoutCheckpointKeepsEveryCompleteStep() throws {
        let path = directory + "/run.h5"
        _ = try writeRun(at: path, steps: 0...2)
        let writer = try TrajectoryWriter(resuming: path)
        XCTAssertEqual(writer.lastStep, 2)
        XCTAssertEqual(writer.stepCount, 3)
        try writer.append(makeStep(3))
        try writer.close()
        XCTAssertEqual(try TrajectoryReader(path: path).steps, [0, 1, 2, 3])
    }

    #if os(Linux)
    /// Open-file-description locks (Linux) also conflict within one process; elsewhere the lock is per process.
    func testSecondWriterIsRefusedWhileTheFirstHasTheFileOpen() throws {
        let path = directory + "/run.h5"
        let first = try TrajectoryWriter(creating: path, metadata: testMetadata)
        try first.append(makeStep(0))
        XCTAssertThrowsTrajectoryError(try TrajectoryWriter(resuming: path), .busy(path: path))
        XCTAssertThrowsTrajectoryError(try TrajectoryWriter(creating: path, metadata: testMetadata, overwrite: true),
                                       .busy(path: path))
        try first.append(makeStep(1))  // the first writer goes on unharmed
        try first.close()
        let second = try TrajectoryWriter(resuming: path)
        XCTAssertEqual(second.lastStep, 1)
        try second.append(makeStep(2))
        try second.close()
        XCTAssertEqual(try TrajectoryReader(path: path).steps, [0, 1, 2])
    }
    #endif

    func testStepsMustIncrease() throws {
        let path = directory + "/run.h5"
        _ = try writeRun(at: path, steps: 0...2)
        let writer = try TrajectoryWriter(resuming: path)
        XCTAssertThrowsTrajectoryError(try writer.append(makeStep(2)),
                                       .invalidRecord("step 2: steps must increase; the file already ends at step 2"))
        try writer.append(makeStep(3))  // a rejected record leaves the writer usable
        try writer.close()
    }

    /// What a `kill -9` leaves: the file as it is on disk while a writer holds it open mid-step (its
    /// "open for writing" flags set, a step's prompts/completions/tokens on disk without their step row).
    private func snapshotOfKilledWriter(completeSteps: Int) throws -> (snapshot: String, records: [StepRecord]) {
        let path = directory + "/run.h5"
        let writer = try TrajectoryWriter(creating: path, metadata: testMetadata)
        let records = (0..<completeSteps).map { makeStep($0) }
        for record in records { try writer.append(record) }
        // Phase 1 of the next step only: rows in the big tables, no step row.
        try writer.appendContentsOnlyForTesting(makeStep(completeSteps))
        let snapshot = directory + "/killed.h5"
        try FileManager.default.copyItem(atPath: path, toPath: snapshot)
        try writer.close()
        return (snapshot, records)
    }

    func testReaderIgnoresAStepAKillCutShort() throws {
        let (snapshot, records) = try snapshotOfKilledWriter(completeSteps: 2)
        let reader = try TrajectoryReader(path: snapshot)
        XCTAssertEqual(reader.steps, [0, 1])
        XCTAssertEqual(try reader.record(ofStep: 1), records[1])
        XCTAssertGreaterThan(try totalRows(snapshot, "tokens/token_id"), try reader.summaries()[1].tokenRows.upperBound)
    }

    func testResumeAfterKillDropsTheStepInFlightAndContinues() throws {
        let (snapshot, records) = try snapshotOfKilledWriter(completeSteps: 2)
        let writer = try TrajectoryWriter(resuming: snapshot, keepingStepsThrough: 1)
        XCTAssertEqual(writer.lastStep, 1)
        let redone = makeStep(2, seed: 5)
        try writer.append(redone)
        try writer.close()
        let reader = try TrajectoryReader(path: snapshot)
        XCTAssertEqual(reader.steps, [0, 1, 2])
        XCTAssertEqual(try reader.record(ofStep: 0), records[0])
        XCTAssertEqual(try reader.record(ofStep: 2), redone)
        XCTAssertEqual(try reader.summaries()[2].tokenRows.upperBound, try totalRows(snapshot, "tokens/token_id"))
    }

    /// A kill between two flushes can leave the end-of-allocation address (EOA) in the superblock behind data that
    /// flushed metadata already points to: HDF5 writes metadata out of its cache on its own schedule too, and a
    /// compressed chunk moves when it is rewritten. A resume must neither fail to read that data nor put new data
    /// over it, and a reader must read the complete steps.
    func testAKillThatLeftTheEndOfAllocationBehindTheDataLosesNothing() throws {
        let path = directory + "/run.h5"
        let writer = try TrajectoryWriter(creating: path, metadata: testMetadata)
        let records = (0..<3).map { makeStep($0) }
        for record in records.prefix(2) { try writer.append(record) }
        let endAfterStep1 = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber).uint64Value
        try writer.append(records[2])
        try writer.appendContentsOnlyForTesting(makeStep(3))
        let snapshot = directory + "/killed.h5"
        try FileManager.default.copyItem(atPath: path, toPath: snapshot)
        try writer.close()
        XCTAssertGreaterThan(try setStoredEndOfAllocation(of: snapshot, to: endAfterStep1), endAfterStep1)
        // And a write the kill cut off in mid-page.
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: snapshot))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(repeating: 0xAB, count: 1000))
        try handle.close()

        let reader = try TrajectoryReader(path: snapshot)
        XCTAssertEqual(reader.steps, [0, 1, 2])
        XCTAssertEqual(try reader.record(ofStep: 2), records[2])
        reader.close()

        let resumed = try TrajectoryWriter(resuming: snapshot)
        XCTAssertEqual(resumed.lastStep, 2)
        let continued = (3...6).map { makeStep($0, seed: 8) }
        for record in continued { try resumed.append(record) }
        try resumed.close()
        let after = try TrajectoryReader(path: snapshot)
        defer { after.close() }
        XCTAssertEqual(after.steps, Array(0...6))
        for record in records + continued {
            XCTAssertEqual(try after.record(ofStep: record.metrics.step), record, "step \(record.metrics.step)")
        }
    }

    /// A killed writer can leave on disk a chunk holding rows past the extent that the dataset's header records,
    /// rows whose text in the global heap it had not yet written (HDF5 writes chunks, headers and heap separately).
    /// HDF5 reads the old value of every string it overwrites, to free its text, so a resume that wrote over those
    /// rows would fail on text that isn't there.
    func testResumeWritesNoStringOverTextAKillLeftUnwritten() throws {
        let path = directory + "/run.h5"
        let writer = try TrajectoryWriter(creating: path, metadata: testMetadata)
        let records = (0..<2).map { makeStep($0) }
        for record in records { try writer.append(record) }
        // Texts over 4 KiB get a global heap collection each, which stands for text the kill left unwritten.
        var inFlight = makeStep(2)
        let marker = "in-flight-\(UUID().uuidString)"
        for index in inFlight.completions.indices { inFlight.completions[index].text = marker + String(repeating: "x", count: 5000) }
        try writer.appendContentsOnlyForTesting(inFlight)
        let snapshot = directory + "/killed.h5"
        try FileManager.default.copyItem(atPath: path, toPath: snapshot)
        try writer.close()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: snapshot)))
        let signature = Array("GCOL".utf8), markerBytes = Array(marker.utf8)
        var erased = 0
        for offset in 0..<(bytes.count - 64) where Array(bytes[offset..<(offset + 4)]) == signature {
            let collection = bytes[offset..<min(bytes.count, offset + 128)]
            if collection.indices.contains(where: { Array(bytes[$0..<min(bytes.count, $0 + markerBytes.count)]) == markerBytes }) {
                bytes.replaceSubrange(offset..<(offset + 4), with: [0, 0, 0, 0])
                erased += 1
            }
        }
        XCTAssertEqual(erased, inFlight.completions.count)
        // The headers of the completions datasets as the last flush left them: 12 rows, not 18.
        XCTAssertEqual(try setRecordedRows(in: &bytes, from: 18, to: 12, headers: objectHeaders(in: bytes)),
                       TrajectorySchema.columns.filter { $0.table == "completions" }.count)
        try Data(bytes).write(to: URL(fileURLWithPath: snapshot))

        let resumed = try TrajectoryWriter(resuming: snapshot)
        XCTAssertEqual(resumed.lastStep, 1)
        let redone = (2...4).map { makeStep($0, seed: 4) }
        for record in redone { try resumed.append(record) }
        try resumed.close()
        let reader = try TrajectoryReader(path: snapshot)
        defer { reader.close() }
        XCTAssertEqual(reader.steps, Array(0...4))
        for record in records + redone {
            XCTAssertEqual(try reader.record(ofStep: record.metrics.step), record, "step \(record.metrics.step)")
        }
    }

    /// The object headers (chunk 0 of each, `OHDR` … checksum) of a run file: where each starts and how long it is.
    private func objectHeaders(in path: String) throws -> [(start: Int, length: Int)] {
        objectHeaders(in: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    private func objectHeaders(in bytes: [UInt8]) -> [(start: Int, length: Int)] {
        var headers: [(start: Int, length: Int)] = []
        var offset = 0
        while offset + 8 <= bytes.count {
            defer { offset += 1 }
            guard bytes[offset] == 0x4f, bytes[offset + 1] == 0x48, bytes[offset + 2] == 0x44, bytes[offset + 3] == 0x52,
                  bytes[offset + 4] == 2 else { continue }
            let flags = bytes[offset + 5]
            var position = offset + 6 + (flags & 0x20 != 0 ? 16 : 0) + (flags & 0x10 != 0 ? 4 : 0)
            let sizeBytes = 1 << Int(flags & 3)
            var chunkSize = 0
            for byte in 0..<sizeBytes { chunkSize |= Int(bytes[position + byte]) << (8 * byte) }
            position += sizeBytes + chunkSize + 4
            headers.append((offset, position - offset))
        }
        return headers
    }

    /// Sets the row count recorded in each dataset header whose dataspace (its first message, HDF5's layout for
    /// our datasets) has `from` rows to `to`, with the header's checksum. Returns how many headers it changed.
    private func setRecordedRows(in bytes: inout [UInt8], from: UInt64, to: UInt64, headers: [(start: Int, length: Int)]) throws -> Int {
        var changed = 0
        for header in headers {
            let flags = bytes[header.start + 5]
            let message = header.start + 6 + (flags & 0x20 != 0 ? 16 : 0) + (flags & 0x10 != 0 ? 4 : 0) + (1 << Int(flags & 3))
            let data = message + 4 + (flags & 0x04 != 0 ? 2 : 0)
            // Dataspace message, version 2, simple: version, rank, flags, type, then the dimensions.
            guard bytes[message] == 0x01, bytes[data] == 2, bytes[data + 3] == 1 else { continue }
            let rows = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[data + 4 + $1]) << (8 * UInt64($1)) }
            guard rows == from else { continue }
            for byte in 0..<8 { bytes[data + 4 + byte] = UInt8(truncatingIfNeeded: to >> (8 * UInt64(byte))) }
            let end = header.start + header.length
            let checksum = jenkinsLookup3(bytes[header.start..<(end - 4)])
            for byte in 0..<4 { bytes[end - 4 + byte] = UInt8(truncatingIfNeeded: checksum >> (8 * UInt32(byte))) }
            changed += 1
        }
        return changed
    }

    /// A kill stops a write only between pages, and every append rewrites the headers of the datasets it grows:
    /// a header that straddled two pages could be left half old, half new.
    func testNoObjectHeaderStraddlesAPage() throws {
        let path = directory + "/run.h5"
        _ = try writeRun(at: path, steps: 0...20)
        let headers = try objectHeaders(in: path)
        XCTAssertGreaterThan(headers.count, TrajectorySchema.columns.count)
        for header in headers {
            XCTAssertEqual(header.start / 4096, (header.start + header.length - 1) / 4096,
                           "object header at \(header.start) of \(header.length) bytes crosses a 4 KiB page")
        }
    }

    /// A torn object header fails its checksum: opening the file says so, at once, instead of HDF5's SWMR reader
    /// retrying with ever longer sleeps.
    func testADamagedObjectHeaderIsReportedWithoutWaiting() throws {
        let path = directory + "/run.h5"
        _ = try writeRun(at: path, steps: 0...2)
        let header = try XCTUnwrap(try objectHeaders(in: path).last)
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: UInt64(header.start + header.length - 5))
        let byte = try XCTUnwrap(try handle.read(upToCount: 1))
        try handle.seek(toOffset: UInt64(header.start + header.length - 5))
        try handle.write(contentsOf: Data([byte[0] ^ 0xff]))
        try handle.close()
        let start = Date()
        for open in [{ _ = try TrajectoryReader(path: path) }, { _ = try TrajectoryWriter(resuming: path) }] {
            XCTAssertThrowsError(try open()) { error in
                XCTAssertTrue("\(error)".hasPrefix(path + ": cannot open the run file"), "\(error)")
                XCTAssertTrue("\(error)".contains("the file is damaged"), "\(error)")
            }
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    // MARK: Bad input

    func testMissingFileIsNamed() {
        XCTAssertThrowsTrajectoryError(try TrajectoryReader(path: directory + "/nope.h5"),
                                       .fileNotFound(path: directory + "/nope.h5"))
    }

    func testTextFileIsNotHDF5() throws {
        let path = directory + "/run.h5"
        try "step,loss\n0,1.0\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsTrajectoryError(try TrajectoryReader(path: path), .notHDF5(path: path))
        XCTAssertThrowsTrajectoryError(try TrajectoryWriter(resuming: path), .notHDF5(path: path))
        XCTAssertTrue(TrajectoryError.notHDF5(path: path).description.contains("not an HDF5 file"))
    }

    func testOtherHDF5FileIsNotARunFile() throws {
        let path = directory + "/other.h5"
        _ = HDF5.ready
        let file = H5Fcreate(path, chdf5_acc_trunc(), chdf5_default(), chdf5_default())
        XCTAssertGreaterThanOrEqual(file, 0)
        try HDF5.writeAttribute(file, "format", string: "something else")
        H5Fclose(file)
        XCTAssertThrowsTrajectoryError(try TrajectoryReader(path: path), .notARunFile(path: path))
    }

    func testOtherFormatVersionNamesBothVersions() throws {
        let path = directory + "/run.h5"
        _ = try writeRun(at: path, steps: 0...0)
        try editFile(path) { try HDF5.writeAttribute($0, "format_version", int64: 2) }
        XCTAssertThrowsTrajectoryError(try TrajectoryReader(path: path),
                                       .unsupportedFormatVersion(path: path, found: 2, supported: 1))
        XCTAssertThrowsTrajectoryError(try TrajectoryWriter(resuming: path),
                                       .unsupportedFormatVersion(path: path, found: 2, supported: 1))
        XCTAssertTrue("\(TrajectoryError.unsupportedFormatVersion(path: path, found: 2, supported: 1))"
            .contains("format version 2, but this SwiftGRPO reads version 1"))
    }

    func testMissingDatasetIsNamed() throws {
        let path = directory + "/run.h5"
        _ = try writeRun(at: path, steps: 0...0)
        try editFile(path) { try HDF5.check(H5Ldelete($0, "tokens/ref_logprob", chdf5_default()), "delete") }
        XCTAssertThrowsTrajectoryError(try TrajectoryReader(path: path),
                                       .missingDataset(path: path, dataset: "tokens/ref_logprob"))
    }

    func testMissingRootAttributeIsNamed() throws {
        let path = directory + "/run.h5"
        _ = try writeRun(at: path, steps: 0...0)
        try editFile(path) { try HDF5.check(H5Adelete($0, "seed"), "delete") }
        XCTAssertThrowsTrajectoryError(try TrajectoryReader(path: path), .missingAttribute(path: path, attribute: "seed"))
    }

    func testStepNotInRunListsAvailableSteps() throws {
        let path = directory + "/run.h5"
        _ = try writeRun(at: path, steps: 0...3)
        XCTAssertThrowsTrajectoryError(try TrajectoryReader(path: path).record(ofStep: 7),
                                       .stepNotFound(path: path, step: 7, available: "0–3"))
        XCTAssertEqual(TrajectoryReader.describe([0, 1, 2, 5, 7, 8]), "0–2, 5, 7–8")
    }

    func testCreateRefusesToReplaceARun() throws {
        let path = directory + "/run.h5"
        _ = try writeRun(at: path, steps: 0...0)
        XCTAssertThrowsTrajectoryError(try TrajectoryWriter(creating: path, metadata: testMetadata), .alreadyExists(path: path))
        XCTAssertEqual(try TrajectoryReader(path: path).steps, [0])
    }

    func testCreateInMissingDirectorySaysSo() {
        let path = directory + "/missing/run.h5"
        XCTAssertThrowsTrajectoryError(try TrajectoryWriter(creating: path, metadata: testMetadata),
                                       .cannotCreate(path: path, reason: "directory \(directory)/missing does not exist"))
    }

    func testCreateWhereTheDirectoryIsAFileFailsWithReason() throws {
        let blocker = directory + "/blocker"
        try "x".write(toFile: blocker, atomically: true, encoding: .utf8)
        let path = blocker + "/run.h5"
        XCTAssertThrowsError(try TrajectoryWriter(creating: path, metadata: testMetadata)) { error in
            guard case TrajectoryError.cannotCreate(path, _)? = error as? TrajectoryError else {
                return XCTFail("expected cannotCreate, got \(error)")
            }
        }
    }

    #if os(Linux)
    /// sysfs refuses new files even to root, so this holds wherever the tests run.
    func testCreateInAReadOnlyDirectoryGivesTheSystemReason() {
        let path = "/sys/run-\(UUID().uuidString).h5"
        XCTAssertThrowsError(try TrajectoryWriter(creating: path, metadata: testMetadata)) { error in
            guard case let TrajectoryError.cannotCreate(failedPath, reason)? = error as? TrajectoryError else {
                return XCTFail("expected cannotCreate, got \(error)")
            }
            XCTAssertEqual(failedPath, path)
            XCTAssertTrue(reason.hasPrefix("Permission denied: "), reason)
        }
    }
    #endif

    func testInvalidRecordsAreRejectedBeforeAnythingIsWritten() throws {
        let path = directory + "/run.h5"
        let writer = try TrajectoryWriter(creating: path, metadata: testMetadata)
        try writer.append(makeStep(0))
        var wrongRewards = makeStep(1)
        wrongRewards.completions[2].rewards = [1]
        XCTAssertThrowsTrajectoryError(try writer.append(wrongRewards),
                                       .invalidRecord("step 1: completion 2: 1 rewards, the run has 2 rules"))
        var wrongGroup = makeStep(1)
        wrongGroup.completions[0].group = 5
        XCTAssertThrowsTrajectoryError(try writer.append(wrongGroup),
                                       .invalidRecord("step 1: completion 0: group 5, but the step has 2 prompts"))
        var wrongLogProbs = makeStep(1)
        wrongLogProbs.completions[1].newLogProbs.append(0)
        XCTAssertThrowsError(try writer.append(wrongLogProbs))
        var wrongExtra = makeStep(1)
        wrongExtra.metrics.extra = []
        XCTAssertThrowsError(try writer.append(wrongExtra))
        try writer.close()
        let reader = try TrajectoryReader(path: path)
        XCTAssertEqual(reader.steps, [0])
        XCTAssertEqual(try totalRows(path, "completions/text"), 6)
    }

    /// A full disk, simulated with a file size limit: the append fails with the operating system's message,
    /// later appends refuse, and the file stays readable through the last complete step.
    func testFullDiskStopsTheRunWithMessageAndKeepsCompleteSteps() throws {
        let path = directory + "/run.h5"
        let writer = try TrajectoryWriter(creating: path, metadata: testMetadata)
        for step in 0...1 { try writer.append(makeStep(step)) }
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber

        var saved = rlimit()
        getrlimit(fileSizeLimit, &saved)
        let previousHandler = signal(SIGXFSZ, SIG_IGN)
        var limited = saved
        limited.rlim_cur = rlim_t(size.intValue + 1024)
        setrlimit(fileSizeLimit, &limited)
        var failure: Error?
        do {
            for step in 2...40 { try writer.append(makeStep(step, prompts: 8, groupSize: 8)) }
        } catch {
            failure = error
        }
        let refusal = Result { try writer.append(makeStep(99)) }
        try? writer.close()
        setrlimit(fileSizeLimit, &saved)
        signal(SIGXFSZ, previousHandler)

        guard case let TrajectoryError.writeFailed(failedPath, step, lastComplete, reason)? = failure as? TrajectoryError else {
            return XCTFail("expected writeFailed, got \(String(describing: failure))")
        }
        XCTAssertEqual(failedPath, path)
        XCTAssertTrue(reason.hasPrefix("File too large: ") || reason.hasPrefix("No space left on device: "), reason)
        XCTAssertEqual(lastComplete, step - 1)
        XCTAssertTrue("\(failure!)".contains("it stays readable through step \(step - 1)"), "\(failure!)")
        guard case .failure(TrajectoryError.writerFailed(path))? = Optional(refusal.mapError { $0 as! TrajectoryError }) else {
            return XCTFail("expected writerFailed, got \(refusal)")
        }
        let reader = try TrajectoryReader(path: path)
        XCTAssertEqual(reader.steps, Array(0..<step))
        XCTAssertEqual(try reader.record(ofStep: step - 1), makeStep(step - 1, prompts: step - 1 >= 2 ? 8 : 2,
                                                                    groupSize: step - 1 >= 2 ? 8 : 3))
    }

    /// Hand-damaged offsets: the damaged step disappears, or reading it throws; nothing traps.
    func testDamagedOffsetsGiveErrorsInsteadOfCrashes() throws {
        let path = directory + "/run.h5"
        _ = try writeRun(at: path, steps: 0...2)
        try overwrite(path, "completions/token_offset", row: 7, with: Int64.max)
        let reader = try TrajectoryReader(path: path)
        XCTAssertEqual(reader.steps, [0, 1, 2])
        XCTAssertNoThrow(try reader.record(ofStep: 0))
        XCTAssertThrowsError(try reader.record(ofStep: 1)) { error in
            guard case TrajectoryError.schemaMismatch? = error as? TrajectoryError else { return XCTFail("\(error)") }
        }
        reader.close()
        try overwrite(path, "steps/first_token", row: 2, with: Int64.max - 1)
        XCTAssertEqual(try TrajectoryReader(path: path).steps, [0, 1])
        try overwrite(path, "steps/completion_count", row: 0, with: -5)
        XCTAssertEqual(try TrajectoryReader(path: path).steps, [])
    }

    // MARK: Helpers

    private func overwrite(_ path: String, _ dataset: String, row: Int, with value: Int64) throws {
        try editFile(path) { file in
            let id = try HDF5.check(id: H5Dopen2(file, dataset, chdf5_default()), "open")
            defer { H5Dclose(id) }
            let space = H5Dget_space(id)
            defer { H5Sclose(space) }
            var start = [hsize_t(row)], count = [hsize_t(1)]
            H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, nil, &count, nil)
            let memory = H5Screate_simple(1, &count, nil)
            defer { H5Sclose(memory) }
            var value = value
            try HDF5.check(H5Dwrite(id, Int64.memoryType, memory, space, chdf5_default(), &value), "write")
        }
    }

    private func totalRows(_ path: String, _ dataset: String) throws -> Int {
        let file = try RunFile.open(path: path, writable: false)
        defer { try? file.close() }
        return file.column(dataset).rows
    }

    private func editFile(_ path: String, _ body: (hid_t) throws -> Void) throws {
        _ = HDF5.ready
        let file = try HDF5.check(id: H5Fopen(path, chdf5_acc_rdwr(), chdf5_default()), "open")
        defer { H5Fclose(file) }
        try body(file)
    }
}

#if os(Linux)
private let fileSizeLimit = __rlimit_resource_t(RLIMIT_FSIZE.rawValue)
#else
private let fileSizeLimit = RLIMIT_FSIZE
#endif
