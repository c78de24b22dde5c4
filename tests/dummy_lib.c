/* A shared library that exports none of the CUDA symbols. */
int fp4rt_dummy_symbol(void);
int fp4rt_dummy_symbol(void)
{
    return 42;
}
