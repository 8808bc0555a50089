#include "engine/write_queue.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

using wspush::engine::SharedFrame;
using wspush::engine::WriteQueue;

namespace {

SharedFrame* frame(const std::string& s) { return SharedFrame::copy_of(s.data(), s.size()); }

std::string gather(const WriteQueue& q) {
    struct iovec iov[64];
    int n = q.fill_iov(iov, 64);
    std::string out;
    for (int i = 0; i < n; ++i) out.append(static_cast<char*>(iov[i].iov_base), iov[i].iov_len);
    return out;
}

}  // namespace

TEST(WriteQueue, SingleFrameNeedsNoRing) {
    WriteQueue q;
    SharedFrame* f = frame("hello");
    q.push(f);
    EXPECT_EQ(f->refs(), 2u);
    EXPECT_EQ(q.frames(), 1u);
    EXPECT_EQ(q.bytes(), 5u);
    EXPECT_EQ(gather(q), "hello");
    q.consume(5);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(f->refs(), 1u);
    f->unref();
}

TEST(WriteQueue, OneFrameSharedByManyQueuesIsNeverCopied) {
    SharedFrame* f = frame("broadcast");
    WriteQueue qs[100];
    for (auto& q : qs) q.push(f);
    EXPECT_EQ(f->refs(), 101u);
    for (auto& q : qs) {
        struct iovec iov[1];
        ASSERT_EQ(q.fill_iov(iov, 1), 1);
        EXPECT_EQ(iov[0].iov_base, f->data());  // the same bytes, not a copy
    }
    for (auto& q : qs) q.clear();
    EXPECT_EQ(f->refs(), 1u);
    f->unref();
}

TEST(WriteQueue, PartialWritesResumeMidFrameInOrder) {
    WriteQueue q;
    for (const char* s : {"abc", "defg", "hi"}) {
        SharedFrame* f = frame(s);
        q.push(f);
        f->unref();
    }
    EXPECT_EQ(q.bytes(), 9u);
    q.consume(2);
    EXPECT_TRUE(q.head_started());
    EXPECT_EQ(gather(q), "cdefghi");
    q.consume(3);
    EXPECT_EQ(gather(q), "fghi");
    q.consume(4);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.bytes(), 0u);
}

TEST(WriteQueue, GrowsPastManyFramesAndKeepsOrder) {
    WriteQueue q;
    std::string expect;
    for (int i = 0; i < 1000; ++i) {
        std::string s = std::to_string(i) + ",";
        expect += s;
        SharedFrame* f = frame(s);
        q.push(f);
        f->unref();
        if (i % 7 == 0) {  // interleave consumption so the ring wraps
            struct iovec iov[1];
            q.fill_iov(iov, 1);
            size_t n = iov[0].iov_len;
            expect.erase(0, n);
            q.consume(n);
        }
    }
    std::string got;
    while (!q.empty()) {
        std::string chunk = gather(q);
        got += chunk;
        q.consume(chunk.size());
    }
    EXPECT_EQ(got, expect);
}

TEST(WriteQueue, DropUnstartedKeepsAPartlyWrittenHead) {
    WriteQueue q;
    for (const char* s : {"head", "x", "y"}) {
        SharedFrame* f = frame(s);
        q.push(f);
        f->unref();
    }
    q.consume(1);
    q.drop_unstarted();
    EXPECT_EQ(q.frames(), 1u);
    EXPECT_EQ(q.bytes(), 3u);
    EXPECT_EQ(gather(q), "ead");
}

TEST(WriteQueue, DropUnstartedDropsEverythingWhenNothingWasSent) {
    WriteQueue q;
    SharedFrame* f = frame("abc");
    q.push(f);
    q.push(f);
    q.drop_unstarted();
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.bytes(), 0u);
    EXPECT_EQ(f->refs(), 1u);
    f->unref();
}

// TLS: bytes handed to a record write that blocked must be offered again, unchanged.
TEST(WriteQueue, DropUnstartedKeepsFramesHoldingCommittedBytes) {
    WriteQueue q;
    for (const char* s : {"aaaa", "bbbb", "cccc", "dddd"}) {
        SharedFrame* f = frame(s);
        q.push(f);
        f->unref();
    }
    q.consume(2);              // "aa" of the first frame sent
    q.drop_unstarted(2 + 3);   // then a blocked record took "aa" + "bbb"
    EXPECT_EQ(gather(q), "aabbbb");
    EXPECT_EQ(q.bytes(), 6u);
}

TEST(WriteQueue, DropUnstartedWithCommittedBytesOfUnstartedFrames) {
    WriteQueue q;
    for (const char* s : {"aaaa", "bbbb", "cccc"}) {
        SharedFrame* f = frame(s);
        q.push(f);
        f->unref();
    }
    q.drop_unstarted(4);  // exactly the first frame is in a blocked record
    EXPECT_EQ(gather(q), "aaaa");
    q.drop_unstarted(0);
    EXPECT_TRUE(q.empty());
}
