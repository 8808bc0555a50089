#include "engine/shared_frame.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

using wspush::engine::SharedFrame;

TEST(SharedFrame, LastReferenceReturnsASmallFrameForReuse) {
    SharedFrame* a = SharedFrame::create(100);
    void* where = a;
    a->unref();
    SharedFrame* b = SharedFrame::create(90);  // same size class: the same memory, no malloc
    EXPECT_EQ(static_cast<void*>(b), where);
    EXPECT_EQ(b->size(), 90u);
    EXPECT_EQ(b->refs(), 1u);
    b->unref();
}

TEST(SharedFrame, FrameStaysAliveWhileAnyReferenceRemains) {
    SharedFrame* f = SharedFrame::create(5);
    memcpy(f->data(), "hello", 5);
    f->ref();
    f->ref();
    f->unref();
    f->unref();
    EXPECT_EQ(f->refs(), 1u);
    EXPECT_EQ(memcmp(f->data(), "hello", 5), 0);
    f->unref();
}

TEST(SharedFrame, EverySizeFromEmptyToLargeHoldsItsBytes) {
    std::vector<SharedFrame*> frames;
    for (size_t len : {0, 1, 55, 56, 57, 120, 4088, 4089, 100000}) {
        SharedFrame* f = SharedFrame::create(len);
        memset(f->data(), 0xAB, len);  // ASan: the whole length must be ours
        EXPECT_EQ(f->size(), len);
        frames.push_back(f);
    }
    for (SharedFrame* f : frames) f->unref();
}

TEST(SharedFrame, SetSizeShrinksTheVisibleLength) {
    SharedFrame* f = SharedFrame::create(200);
    f->set_size(10);
    EXPECT_EQ(f->size(), 10u);
    f->unref();
}
