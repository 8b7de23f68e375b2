// Linked with -static by run.sh: greenstat --compare must refuse it.
int main(void)
{
	return 0;
}
